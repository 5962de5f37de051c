"""Real CalDAV servers for tests, each on 127.0.0.1 on a free port with throw-away storage.

A client is only as good as the servers it was tried against, so the push tests talk to
Radicale and Xandikos themselves (subprocesses of this interpreter), to a proxy that holds
them to Google's rules, and to a scripted server that misbehaves on purpose. Each is a context
manager: entering starts it, leaving stops it and removes its storage; ``stop()`` and
``start()`` in between restart it on the same port with the same storage.

Only the standard library and ``requests`` are imported (the servers themselves run in their
own processes), so Odoo's tests import this as
``odoo.addons.external_calendar_api.booking_feed.tests.dav_servers`` and the Odoo-free ones as
``booking_feed.tests.dav_servers``. The OAuth side is in ``oauth_server``.
"""

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

START_TIMEOUT = 20  # seconds a server may take to listen
HOST = "127.0.0.1"


def free_port():
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A server run as ``python -m ...`` in a subprocess; subclasses say how (``command``).

    Its output goes to ``server.log`` in the storage folder, which a failure to start quotes.
    """

    def __init__(self):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/"
        self.storage = Path(tempfile.mkdtemp(prefix=f"{type(self).__name__.lower()}-"))
        self.log = self.storage / "server.log"
        self._process = None

    def command(self):
        raise NotImplementedError

    def start(self):
        if self._process is not None:
            return
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 (this interpreter, our own arguments)
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.storage
            )
        self._wait_until_listening()

    def _wait_until_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._process.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=1):
                return
            time.sleep(0.05)
        code = self._process.poll()
        self.stop()
        why = f"exited with status {code}" if code is not None else f"not listening after {START_TIMEOUT} s"
        output = self.log.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"{type(self).__name__} did not start on port {self.port} ({why}):\n{output}")

    def stop(self):
        """Stop the server (its storage stays, for ``start()`` again)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()
        shutil.rmtree(self.storage, ignore_errors=True)


def mkcalendar(url, auth=None):
    """Create the calendar collection at ``url`` (RFC 4791 MKCALENDAR) and return ``url``."""
    response = requests.request("MKCALENDAR", url, auth=auth, timeout=10)
    if response.status_code != 201:
        raise RuntimeError(f"MKCALENDAR {url} answered {response.status_code}: {response.text[:500]}")
    return url


RADICALE_CONFIG = """\
[server]
hosts = {host}:{port}
[auth]
type = htpasswd
htpasswd_filename = {storage}/users
htpasswd_encryption = plain
delay = 0
[rights]
type = from_file
file = {storage}/rights
[storage]
filesystem_folder = {storage}/collections
[web]
type = none
[logging]
level = warning
"""

OWNER_RIGHTS = """\
[root]
user: .+
collection:
permissions: R
[principal]
user: .+
collection: {user}
permissions: RW
[calendars]
user: .+
collection: {user}/[^/]+
permissions: rw
"""


class Radicale(ServerProcess):
    """Radicale 3, the server most self-hosted calendars run: HTTP Basic users (``users`` maps
    names to plain passwords), each owning the calendars under ``/<name>/``.

    ``rights`` is text in Radicale's rights-file format, matched before the owner-only rules.
    A calendar made ``read_only`` stays readable (PROPFIND, REPORT, GET) by its user, while
    PUT and DELETE there answer 403; Radicale reads its rights at start, so that restarts it.
    """

    def __init__(self, users, rights=None):
        super().__init__()
        self.users = dict(users)
        self.rights = rights or ""
        self._read_only = []

    def command(self):
        (self.storage / "users").write_text("".join(f"{name}:{pw}\n" for name, pw in self.users.items()))
        (self.storage / "rights").write_text(self._rights_file())
        config = RADICALE_CONFIG.format(host=HOST, port=self.port, storage=self.storage)
        (self.storage / "config").write_text(config)
        return [sys.executable, "-m", "radicale", "--config", str(self.storage / "config")]

    def _rights_file(self):
        read_only = "".join(
            f"[read-only {user}/{name}]\nuser: {_literal(user)}\ncollection: {_literal(f'{user}/{name}')}\n"
            "permissions: r\n"
            for user, name in self._read_only
        )
        return read_only + self.rights + "\n" + OWNER_RIGHTS

    def make_calendar(self, user, name, *, read_only=False):
        """Create ``/<user>/<name>/`` as ``user`` and return its URL."""
        url = mkcalendar(f"{self.url}{user}/{name}/", auth=(user, self.users[user]))
        if read_only:
            self._read_only.append((user, name))
            self.stop()
            self.start()
        return url


def _literal(text):
    """``text`` as a regular expression matching only itself, in a rights file (which formats it)."""
    return re.escape(text).replace("{", "{{").replace("}", "}}")


class Xandikos(ServerProcess):
    """Xandikos, a stricter, Git-backed CalDAV server without authentication, so that the client
    is not tuned to one server's leniency. Calendars live under ``/user/calendars/``."""

    def command(self):
        return [
            sys.executable,
            "-m",
            "xandikos.web",
            "--directory",
            str(self.storage / "dav"),
            "--listen-address",
            HOST,
            "--port",
            str(self.port),
            "--current-user-principal",
            "/user/",
            "--defaults",
        ]

    def make_calendar(self, name):
        """Create ``/user/calendars/<name>/`` and return its URL."""
        return mkcalendar(f"{self.url}user/calendars/{name}/")


class _AnyMethodHandler(BaseHTTPRequestHandler):
    """Reads the body by Content-Length and hands any request, whatever its method, to the
    ``answer(handler)`` of the server's owner."""

    protocol_version = "HTTP/1.1"

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        self.server.connections.discard(self.connection)
        super().finish()

    def _dispatch(self):
        self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.owner.answer(self)

    def respond(self, status, headers, body):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner, port):
        self.owner = owner
        self.connections = set()
        super().__init__((HOST, port), _AnyMethodHandler)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # a client or a stop() hung up: expected
            super().handle_error(request, client_address)


class LoopbackServer:
    """An HTTP server in a daemon thread of this process; subclasses define ``answer(handler)``.

    ``stop()`` closes every open connection too, so it never waits on an answer still being
    written, and ``start()`` again listens on the same port.
    """

    def __init__(self):
        self.port = 0
        self.url = None
        self._server = None

    def start(self):
        if self._server is not None:
            return
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        for connection in list(self._server.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()


HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
NOT_FORWARDED = HOP_BY_HOP | {
    "authorization",
    "proxy-authorization",
    "host",
    "content-length",
    "accept-encoding",
}
NOT_RELAYED = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server", "www-authenticate"}


class GoogleProfile(LoopbackServer):
    """A reverse proxy that holds a real server to Google's CalDAV rules, as far as a client
    notices them: Bearer tokens only (``tokens.is_valid``, else 401), no MKCALENDAR (405), and
    400 for any ``If-None-Match``, so a client relying on it fails loudly. Everything else goes
    to ``upstream_url`` (with ``upstream_auth``, a (user, password) pair for HTTP Basic) at the
    same path, and the answer comes back with its status, headers and body (502 if it is down).
    ``requests_by_method`` counts every request received, refused ones included.
    """

    def __init__(self, upstream_url, upstream_auth=None, tokens=None):
        if tokens is None:
            raise ValueError("GoogleProfile needs tokens: the TokenEndpoint whose access tokens it accepts")
        super().__init__()
        self.upstream_url = upstream_url.rstrip("/")
        self.upstream_auth = upstream_auth
        self.tokens = tokens
        self.requests_by_method = Counter()
        self._lock = threading.Lock()

    def calendar_url(self, upstream_calendar_url):
        """The proxy's URL of a collection of the upstream server."""
        if not upstream_calendar_url.startswith(self.upstream_url):
            raise ValueError(f"{upstream_calendar_url} is not on {self.upstream_url}")
        return self.url.rstrip("/") + upstream_calendar_url.removeprefix(self.upstream_url)

    def answer(self, request):
        with self._lock:
            self.requests_by_method[request.command] += 1
        request.respond(*(self._refusal(request) or self._forward(request)))

    def _refusal(self, request):
        text = {"Content-Type": "text/plain; charset=utf-8"}
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.tokens.is_valid(token.strip()):
            challenge = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
            return 401, text | challenge, b"Request had invalid authentication credentials."
        if request.command == "MKCALENDAR":
            allowed = {"Allow": "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT"}
            return 405, text | allowed, b"Calendars are created with the Google Calendar API, not CalDAV."
        if "If-None-Match" in request.headers:
            return 400, text, b"If-None-Match is not supported."
        return None

    def _forward(self, request):
        headers = {
            name: value for name, value in request.headers.items() if name.lower() not in NOT_FORWARDED
        }
        upstream = requests.request(
            request.command,
            self.upstream_url + request.path,
            data=request.body,
            headers=headers | {"Accept-Encoding": "identity"},
            auth=self.upstream_auth,
            allow_redirects=False,
            timeout=30,
        )
        relayed = {name: value for name, value in upstream.headers.items() if name.lower() not in NOT_RELAYED}
        if relayed.get("Location", "").startswith(self.upstream_url):
            relayed["Location"] = self.calendar_url(relayed["Location"])
        return upstream.status_code, relayed, upstream.content


class ScriptedServer(LoopbackServer):
    """A server that answers what the test writes: ``answer(method, path, headers, body, wfile)``
    writes raw bytes (garbage, an endless or trickled body, a redirect loop...) or closes early.

    The body has been read by Content-Length; the connection closes once ``answer`` returns.
    ``requests`` lists each request received as (method, path, headers, body).
    """

    def __init__(self, answer):
        super().__init__()
        self.script = answer
        self.requests = []

    def answer(self, request):
        request.close_connection = True
        self.requests.append((request.command, request.path, request.headers, request.body))
        self.script(request.command, request.path, request.headers, request.body, request.wfile)
