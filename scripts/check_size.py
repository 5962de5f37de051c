"""``make lint``: the shipped code stays small enough to read in one sitting.

No source file over 400 lines and no function over 50 (tests, benchmarks
and scripts aside), and no SQL written with f-strings or ``str.format``:
queries are composed with ``odoo.tools.SQL``, which keeps values as
parameters. Prints each offence and exits non-zero if there is one.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["models", "controllers", "wizard", "booking_feed", "__init__.py", "__manifest__.py"]
EXCLUDED_PARTS = {"tests"}
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 50
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|COPY|ALTER)\b")


def shipped_files():
    for name in SHIPPED:
        path = ROOT / name
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            if not EXCLUDED_PARTS & set(file.relative_to(ROOT).parts):
                yield file


def offences(file):
    source = file.read_text()
    where = file.relative_to(ROOT)
    if (lines := len(source.splitlines())) > MAX_FILE_LINES:
        yield f"{where}: {lines} lines (at most {MAX_FILE_LINES})"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                yield f"{where}:{node.lineno}: {node.name}() is {length} lines (at most {MAX_FUNCTION_LINES})"
        formatted = isinstance(node, ast.JoinedStr) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
        )
        if formatted and SQL_WORDS.search(ast.unparse(node)):
            yield f"{where}:{node.lineno}: SQL built with an f-string or str.format; use odoo.tools.SQL"


def main():
    found = [offence for file in shipped_files() for offence in offences(file)]
    print("\n".join(found) or f"size and SQL rules: {len(list(shipped_files()))} shipped files pass")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
