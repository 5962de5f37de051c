"""Create .venv with the project's Python dependencies and, when possible, Odoo.

Run with the interpreter that should provide Odoo (``make`` uses ``python3``).
Odoo is not on PyPI, so it comes from the environment, in this order:

1. the running interpreter can ``import odoo`` (Odoo installed in the
   environment, as in the official Docker image): .venv sees that
   interpreter's site-packages through a ``.pth`` file;
2. ``ODOO_SRC`` names an Odoo 19 source tree: its requirements and the tree
   itself (editable) are installed into .venv;
3. the official Odoo 19 source tarball is downloaded and installed likewise.

If none works, .venv still gets everything the Odoo-free tests need, and the
reason is written to ``.venv/odoo-status`` for ``make test`` to report.

The accessibility tests inject axe-core (npm, pinned below) into the pages
they check: it goes to ``.cache/npm`` when npm is there; without it, those
tests skip and say why.
"""

import os
import shutil
import site
import subprocess
import sys
import tarfile
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STATUS_FILE = VENV / "odoo-status"
CACHE = ROOT / ".cache"
ODOO_TARBALL_URL = "https://nightly.odoo.com/19.0/nightly/src/odoo_19.0.latest.tar.gz"
AXE_CORE = "axe-core@4.11.0"
NPM_PREFIX = CACHE / "npm"


def venv_python():
    return VENV / "bin" / "python"


def pip_install(*args):
    subprocess.run([venv_python(), "-m", "pip", "install", "--quiet", *args], check=True)


def venv_site_packages():
    out = subprocess.run(
        [venv_python(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def odoo_in_running_interpreter():
    try:
        import odoo.release  # noqa: PLC0415
    except ImportError:
        return None
    return odoo.release.version


def link_running_interpreter():
    """Let .venv import what this interpreter has (Odoo and its pinned requirements)."""
    site_dirs = [*site.getsitepackages(), site.getusersitepackages()]
    lines = [f"import site; site.addsitedir({d!r})" for d in site_dirs if os.path.isdir(d)]
    (venv_site_packages() / "zz_environment_odoo.pth").write_text("\n".join(lines) + "\n")


def install_odoo_source(source):
    source = Path(source)
    if not (source / "odoo" / "release.py").is_file():
        raise RuntimeError(f"ODOO_SRC={source} is not an Odoo source tree (no odoo/release.py)")
    pip_install("-r", str(source / "requirements.txt"))
    pip_install("--no-deps", "-e", str(source))


def download_official_tarball():
    CACHE.mkdir(exist_ok=True)
    archive = CACHE / "odoo_19.0.latest.tar.gz"
    if not archive.exists():
        with urllib.request.urlopen(ODOO_TARBALL_URL, timeout=30) as response:
            archive.write_bytes(response.read())
    target = CACHE / "odoo-19.0"
    if not target.exists():
        with tarfile.open(archive) as tar:
            top = tar.getnames()[0].split("/")[0]
            tar.extractall(CACHE, filter="data")
        (CACHE / top).rename(target)
    return target


def provide_odoo():
    """Make Odoo importable in .venv; return a one-line status."""
    version = odoo_in_running_interpreter()
    if version:
        link_running_interpreter()
        return f"ok: Odoo {version} from {sys.executable}"
    errors = []
    if os.environ.get("ODOO_SRC"):
        try:
            install_odoo_source(os.environ["ODOO_SRC"])
            return f"ok: Odoo from ODOO_SRC={os.environ['ODOO_SRC']}"
        except (RuntimeError, subprocess.CalledProcessError) as error:
            errors.append(str(error))
    else:
        errors.append(f"{sys.executable} cannot import odoo and ODOO_SRC is not set")
    try:
        install_odoo_source(download_official_tarball())
        return "ok: Odoo from the official 19.0 source tarball"
    except (OSError, RuntimeError, subprocess.CalledProcessError, tarfile.TarError) as error:
        errors.append(f"the official tarball could not be installed ({error})")
    return "missing: " + "; ".join(errors)


def install_axe_core():
    """axe-core for the accessibility tests, into .cache/npm; a one-line status."""
    npm = shutil.which("npm")
    if not npm:
        return "axe-core not installed: no npm (apt-get install npm); the accessibility tests will skip"
    command = [npm, "install", "--prefix", str(NPM_PREFIX), "--no-save", "--no-audit", "--no-fund", AXE_CORE]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode:
        error = (result.stderr.strip().splitlines() or ["npm failed"])[-1]
        return f"axe-core not installed ({error}); the accessibility tests will skip"
    return f"{AXE_CORE} in {NPM_PREFIX.relative_to(ROOT)}"


def main():
    if not venv_python().exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip_install("--upgrade", "pip")
    status = provide_odoo()
    pip_install("-r", str(ROOT / "requirements-dev.txt"))
    STATUS_FILE.write_text(status + "\n")
    print(f"Odoo: {status}")
    print(f"Accessibility tests: {install_axe_core()}")


if __name__ == "__main__":
    main()
