"""OCA's own module checks, as OCA CI runs them: ``oca-checks-odoo-module`` and ``oca-checks-po``.

The module check looks for addons one level below a repository root (a folder with
``.git``), as in an OCA repository; this repository is the addon itself, so the
checks run on a clean copy laid out that way. Disabled, with the reason:
``prefer-readme-rst`` (README.md is this addon's front door, not a generated
OCA README.rst) and ``po-pretty-format`` (OCA's template disables it too).
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from devenv import MODULE, clean_copy

BIN = Path(sys.executable).parent


def main():
    with tempfile.TemporaryDirectory() as directory:
        repository = clean_copy(directory)
        (repository / ".git").mkdir()
        addon = repository / MODULE
        module_check = [
            BIN / "oca-checks-odoo-module",
            "--disable=prefer-readme-rst",
            addon / "__manifest__.py",
        ]
        po_check = [
            BIN / "oca-checks-po",
            "--disable=po-pretty-format",
            *sorted((addon / "i18n").glob("*.po")),
        ]
        codes = [
            subprocess.run(check, cwd=repository, check=False).returncode
            for check in (module_check, po_check)
        ]
    sys.exit(1 if any(codes) else 0)


if __name__ == "__main__":
    main()
