"""The floor under a plain poll: the same number of bytes sent by werkzeug (the HTTP server Odoo
runs on) from memory, with nothing to look up or build, to the same client.

A plain answer at 100k bookings is ten times the bytes of one at 10k, so
even a server that had the body ready in memory would take longer to send
it; the bench prints this beside the polls so that the 100k / 10k ratio can
be read against what the transfer alone costs. Run as a script it serves
``GET /<bytes>`` on the port given; :func:`floor_server` starts it in its
own process (a server thread would share the client's interpreter lock).
"""

import http.client
import subprocess
import sys
import time
from contextlib import contextmanager

from werkzeug.serving import make_server

#: Bytes of each chunk of the answer: about the size of a day's segment at 100k bookings.
CHUNK = 32 * 1024


def application(environ, start_response):
    size = int(environ["PATH_INFO"].strip("/"))
    chunk = b"x" * CHUNK
    body = [chunk] * (size // CHUNK) + [chunk[: size % CHUNK]]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(size))])
    return body


def fetch(port, size):
    """GET ``size`` bytes from the floor server, read whole, as the bench's client reads a feed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", f"/{size}")
    body = connection.getresponse().read()
    connection.close()
    assert len(body) == size, (len(body), size)


@contextmanager
def floor_server(port):
    """The floor server in a process of its own, listening on ``port`` until the block ends."""
    server = subprocess.Popen([sys.executable, __file__, str(port)], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):  # bounded: 10 s
            try:
                fetch(port, 1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the floor server did not answer on port {port}")
        yield
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    make_server("127.0.0.1", int(sys.argv[1]), application).serve_forever()
