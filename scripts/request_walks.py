"""How far a request travels through the addon: functions entered and files crossed.

Installs the addon of this checkout with demo data on a throw-away cluster,
then, in ``odoo shell``, follows three requests with ``sys.setprofile``: an
ICS GET of a key limited to one room, a CalDAV sync-collection after one
change, and a webhook delivery after one change. Counts the addon's own
functions entered (comprehensions and lambdas aside), the files they are in,
the calls from a function of one file into another file's, the hops (such
calls from one model or controller into another model: ``booking_feed``'s
rules are leaves), the model files crossed, and the deepest chain of the
addon's own calls.
The entry points are the same in every version since 19.0.1.5.0, so the
script can be copied into an older checkout to measure it the same way.
Usage: ``.venv/bin/python scripts/request_walks.py``.
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devenv import MODULE, install_module, throwaway_odoo

DATABASE = "request_walks"

SHELL = r"""
import sys
from werkzeug.datastructures import MultiDict

def walk(label, request):
    entered, crossings, hops, stack, deepest = [], [0], [0], [], [0]
    def mine(code):
        return ("/%(module)s/" in code.co_filename and "/tests/" not in code.co_filename
                and not code.co_name.startswith("<"))
    def profile(frame, event, _arg):
        code = frame.f_code
        if not mine(code):
            return
        where = code.co_filename.split("/%(module)s/")[1]
        if event == "call":
            entered.append((where, code.co_name))
            crossings[0] += bool(stack) and stack[-1] != where
            # A hop: from one model (or controller) into another; booking_feed's rules are leaves.
            hops[0] += bool(stack) and stack[-1] != where and not where.startswith("booking_feed/")
            stack.append(where)
            deepest[0] = max(deepest[0], len(stack))
        elif event == "return" and stack:
            stack.pop()
    sys.setprofile(profile)
    try:
        request()
    finally:
        sys.setprofile(None)
    files = {path for path, _name in entered}
    models = {path for path in files if not path.startswith("booking_feed/")}
    counts = (len(set(entered)), len(files), crossings[0], hops[0], len(models), deepest[0])
    print(f"| {label} | " + " | ".join(map(str, counts)) + " |")

env["ir.config_parameter"].set_param("external_calendar_api.enabled", True)
Feed, Room = env["calendar.feed"], env["calendar.room"]
room = Room.search([("is_published", "=", True)], limit=1)
event = env["calendar.event"].search([("room_ids", "in", room.ids)], limit=1)
Feed._get_up_to_date()
key = env["calendar.feed.key"].generate({"name": "walk", "room_ids": [(6, 0, room.ids)]})["token"]
env["calendar.feed.webhook"].create({"name": "walk", "url": "http://127.0.0.1:9/"})
path = f"/w/caldav/calendars/room-{room.code}/"
headers = {"Authorization": "Bearer " + key}
body = b'<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:prop><d:getetag/></d:prop></d:sync-collection>'
Dav = env["calendar.feed.dav"]
answer = Dav._answer("REPORT", path, headers, body)
token = answer.read().split(b"<d:sync-token>")[1].split(b"<")[0].decode()
event.name = event.name + " (moved)"
env["calendar.feed.webhook"]._cron_deliver()  # the build, and the first delivery, before walking
event.name = event.name + "!"
Feed._get_up_to_date()
print("| request | functions entered | files | calls into another file | hops between models "
      "| model files | deepest chain |")
print("|---|---:|---:|---:|---:|---:|---:|")
walk("ICS GET, key of one room, room=", lambda: env["calendar.feed.query"]._answer(
    "ics", MultiDict({"token": key, "room": room.code})).read())
sync = body.replace(b"<d:sync-token/>", f"<d:sync-token>{token}</d:sync-token>".encode())
walk("CalDAV sync-collection after a change", lambda: Dav._answer("REPORT", path, headers, sync).read())
event.name = event.name + "?"
Feed._get_up_to_date()
walk("webhook delivery of a change", lambda: env["calendar.feed.webhook"]._cron_deliver())
env.cr.rollback()
"""


def main():
    with throwaway_odoo("ext-cal-walks-") as (config, _cluster):
        install_module(config, DATABASE, "--with-demo")
        script = SHELL % {"module": MODULE}
        # The subcommand comes first: ``odoo shell -c CONFIG``.
        shell = [sys.executable, "-m", "odoo", "shell", "-c", str(config), "-d", DATABASE, "--no-http"]
        subprocess.run(shell, input=script.encode(), check=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
