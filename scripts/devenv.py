"""Shared pieces of the dev loop: a private PostgreSQL cluster and Odoo configs.

Used by run_tests.py (a throw-away cluster per run) and serve.py (a kept
cluster for ``make run``). Needs only the standard library.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "external_calendar_api"
BUILD = ROOT / "build"
ADDONS_LINK_DIR = BUILD / "addons"
DB_USER = "odoo"
PG_BIN_CANDIDATES = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]


def odoo_unavailable_reason():
    """Why Odoo cannot be imported here (as bootstrap_venv.py recorded it), or None."""
    import importlib.util  # noqa: PLC0415

    if importlib.util.find_spec("odoo") is not None:
        return None
    status = ROOT / ".venv" / "odoo-status"
    detail = status.read_text().strip() if status.exists() else "odoo is not importable"
    return detail.removeprefix("missing: ")


def pg_bin(tool):
    for directory in [os.environ.get("PG_BIN", ""), *PG_BIN_CANDIDATES]:
        candidate = Path(directory) / tool
        if directory and candidate.exists():
            return str(candidate)
    found = shutil.which(tool)
    if not found:
        raise RuntimeError(f"PostgreSQL's {tool} was not found: install postgresql or set PG_BIN")
    return found


def runuser():
    """util-linux's runuser, also where a minimal PATH (cron, CI) leaves out the sbin folders."""
    for candidate in (shutil.which("runuser"), "/usr/sbin/runuser", "/sbin/runuser"):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("runuser (util-linux) was not found: it runs PostgreSQL as the postgres user")


def addons_path():
    """Odoo's own addons plus a link to this repository under the module's name.

    The repository root is the addon; Odoo finds addons by directory name, so
    an ignored ``build/addons/external_calendar_api`` link points back here.
    """
    ADDONS_LINK_DIR.mkdir(parents=True, exist_ok=True)
    link = ADDONS_LINK_DIR / MODULE
    if not link.is_symlink():
        link.symlink_to(Path("..", ".."), target_is_directory=True)
    import odoo.addons  # noqa: PLC0415  (only called where Odoo is importable)

    # Editable installs also list a path hook here, which is not a directory.
    odoo_dirs = [str(Path(p).resolve()) for p in odoo.addons.__path__ if Path(p).is_dir()]
    return ",".join([*odoo_dirs, str(ADDONS_LINK_DIR)])


class PostgresCluster:
    """A PostgreSQL cluster in ``directory``, reachable only by a unix socket there.

    ``initdb`` refuses to run as root, so as root the cluster belongs to the
    unprivileged ``postgres`` user. ``durable`` keeps PostgreSQL's defaults
    (fsync, synchronous commits, full page writes), as for data people keep;
    without it a crash may lose or corrupt data, which only throw-away
    clusters can afford.
    """

    FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")

    def __init__(self, directory, *, durable=False):
        self.directory = Path(directory)
        self.durable = durable
        self.data = self.directory / "data"
        self.socket_dir = self.directory / "socket"
        self.log = self.directory / "postgres.log"
        self.owner = "postgres" if os.geteuid() == 0 else None

    @property
    def settings(self):
        """What the table of a benchmark should say about how the data was written."""
        return (
            "durable (PostgreSQL defaults: fsync on)"
            if self.durable
            else "fast: " + ", ".join(self.FAST_SETTINGS)
        )

    def owner_can_reach(self, path):
        """Whether the cluster's owner may enter ``path`` (an existing directory)."""
        if not self.owner:
            return os.access(path, os.X_OK | os.W_OK)
        check = [runuser(), "-u", self.owner, "--", "test", "-x", str(path)]
        return subprocess.run(check, check=False).returncode == 0

    def _as_owner(self, *command):
        prefix = [runuser(), "-u", self.owner, "--"] if self.owner else []
        # From the cluster's directory: the owner may not be allowed into the caller's.
        subprocess.run([*prefix, *command], check=True, stdout=subprocess.DEVNULL, cwd=self.directory)

    def _give_to_owner(self, path):
        if self.owner:
            user = pwd.getpwnam(self.owner)
            os.chown(path, user.pw_uid, user.pw_gid)

    def start(self):
        for path in (self.directory, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            self._give_to_owner(path)
        if not (self.data / "PG_VERSION").exists():
            initdb = [pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
            initdb += ["--encoding=UTF8", "--locale=C", *([] if self.durable else ["--no-sync"])]
            self._as_owner(*initdb)
        options = f"-k {self.socket_dir} -c listen_addresses=''"
        if not self.durable:
            options += "".join(f" -c {setting}" for setting in self.FAST_SETTINGS)
        self._as_owner(
            pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        self.psql(
            f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DB_USER}') "
            f"THEN CREATE ROLE {DB_USER} LOGIN CREATEDB; END IF; END$$;"
        )
        return self

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._as_owner(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def psql(self, sql, database="postgres"):
        result = subprocess.run(
            [
                pg_bin("psql"),
                "-h",
                str(self.socket_dir),
                "-U",
                "postgres",
                "-d",
                database,
                "-tAq",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def write_odoo_config(path, cluster, data_dir, **options):
    """An Odoo configuration file that reaches ``cluster`` as the odoo role."""
    values = {
        "addons_path": addons_path(),
        "data_dir": str(data_dir),
        "db_host": str(cluster.socket_dir),
        "db_port": "5432",
        "db_user": DB_USER,
        "http_interface": "127.0.0.1",
        "list_db": "False",
        **options,
    }
    Path(path).write_text("[options]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
    return Path(path)


def free_port():
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_odoo(prefix, *, durable=False):
    """A new PostgreSQL cluster in a temporary directory and an Odoo config reaching it.

    Yields ``(config path, cluster)``; the cluster is stopped and the directory removed after.
    The config's HTTP port is a free one, so that a test run never fails on a port that another
    Odoo on the machine (``make run``, another checkout's tests) holds.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # the cluster may belong to the postgres user
        with PostgresCluster(tmp / "postgres", durable=durable) as cluster:
            config = write_odoo_config(tmp / "odoo.conf", cluster, tmp / "filestore", http_port=free_port())
            yield config, cluster


def clean_copy(directory):
    """The addon's files (tracked or new, not ignored) copied under ``directory/MODULE``; returns
    ``directory``.

    Tools that walk an addon and follow symbolic links (Odoo's translation export) would follow
    the checkout's ``build/addons`` link back into itself forever, and read ``.venv``; tools that
    look for the repository root above the addon (OCA's checks) need the addon one level down.
    """
    target = Path(directory) / MODULE
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    files = subprocess.run(listing, cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return Path(directory)


def odoo_command(config, *args):
    """Run Odoo's command line with this interpreter (the one .venv provides)."""
    return [sys.executable, "-m", "odoo", "-c", str(config), *args]


def install_module(config, database, *extra, update=False):
    """Install the addon in ``database`` (created if needed), or update it there."""
    action = "-u" if update else "-i"
    subprocess.run(
        odoo_command(config, "-d", database, action, MODULE, "--stop-after-init", "--log-level=warn", *extra),
        check=True,
    )
