"""``make test-pythons``: the Odoo-free suite on every Python from 3.10 to 3.13 found here.

Odoo 19 runs on Python 3.10 to 3.13, and on Debian 12 on the system's own
``/usr/bin/python3`` (3.11.2, older than most): the library must behave the
same on each. Every interpreter found (on PATH, pyenv's, the system's) gets a
venv of its own under ``build/pythons/`` with the library's dependencies, and
runs ``booking_feed/tests``. Fails if any run fails or no interpreter is found.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "build" / "pythons"
LIBRARY_TESTS = ROOT / "booking_feed" / "tests"
SUPPORTED = ((3, 10), (3, 11), (3, 12), (3, 13))
REQUIREMENTS = (ROOT / "requirements.txt", LIBRARY_TESTS / "requirements.txt")


def candidates():
    """Interpreters that may be there: by name on PATH, in pyenv's versions, the system's."""
    names = [f"python{major}.{minor}" for major, minor in SUPPORTED]
    found = [shutil.which(name) for name in names]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        found += [str(path) for name in names for path in Path(root, "versions").glob(f"*/bin/{name}")]
    return [*found, "/usr/bin/python3"]


def version_of(python):
    """``(major, minor, micro)`` of a working interpreter, else None (a pyenv shim of a version not
    selected, say)."""
    probe = [python, "-c", "import sys, venv; print(*sys.version_info[:3])"]
    try:
        out = subprocess.run(probe, capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return tuple(int(part) for part in out.split())


def interpreters():
    """One interpreter per distinct version (3.11.2 and 3.11.7 are two), of the supported ones."""
    chosen = {}
    for python in filter(None, candidates()):
        version = version_of(python)
        if version and version[:2] in SUPPORTED:
            chosen.setdefault(version, python)
    return [(python, version) for version, python in sorted(chosen.items())]


def run_suite(python, version):
    label = ".".join(map(str, version))
    venv = VENVS / f"{label}-{hashlib.sha256(python.encode()).hexdigest()[:8]}"
    venv_python = venv / "bin" / "python"
    if not venv_python.exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    requirements = [arg for path in REQUIREMENTS for arg in ("-r", str(path))]
    subprocess.run([venv_python, "-m", "pip", "install", "--quiet", *requirements], check=True)
    command = [venv_python, "-m", "pytest", "-q", "-c", str(LIBRARY_TESTS / "pytest.ini"), str(LIBRARY_TESTS)]
    print(f"== Odoo-free suite on Python {label} ({python})", flush=True)
    return subprocess.run(command, check=False).returncode


def main():
    found = interpreters()
    if not found:
        print("No Python 3.10-3.13 interpreter found")
        sys.exit(1)
    results = [(python, version, run_suite(python, version)) for python, version in found]
    for python, version, code in results:
        print(f"Python {'.'.join(map(str, version))} ({python}): {'passed' if code == 0 else 'FAILED'}")
    sys.exit(1 if any(code for *_rest, code in results) else 0)


if __name__ == "__main__":
    main()
