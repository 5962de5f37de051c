import json

from odoo import api, fields, models
from odoo.tools import SQL

from ..booking_feed.push import Work
from ..booking_feed.query import FeedQuery
from ..booking_feed.records import booking_id_of


class CalendarFeedPushObject(models.Model):
    """A booking as a push target last wrote it into its remote calendar.

    What makes pushing idempotent and resumable: a booking is pushed again
    only when its published object changed since (``pushed_etag``, the
    entry's ETag), and deleted remotely when it left the target's rooms or
    window; a run that dies mid-push resumes from here. ``remote_etag`` is
    what the server answered, for ``If-Match``.
    """

    _name = "calendar.feed.push.object"
    _description = "External Calendar Pushed Booking"
    _log_access = False
    _order = "push_id, event_id"

    push_id = fields.Many2one("calendar.feed.push", required=True, ondelete="cascade", index=True)
    event_id = fields.Integer("Booking ID", required=True)
    uid = fields.Char("UID", required=True)
    href = fields.Char("Remote Path", required=True)
    remote_etag = fields.Char("Remote ETag", help="The server's ETag of what was written.")
    pushed_etag = fields.Char(
        "Pushed ETag", help="ETag of the published object that was written; empty: write again."
    )
    rejected_etag = fields.Char(
        "Refused ETag", help="ETag of the version the server refused; tried again once it changes."
    )
    error = fields.Char(help="Why the server refused it.")
    pushed_at = fields.Datetime()

    _booking_unique = models.Constraint("UNIQUE(push_id, event_id)", "A booking is pushed once per target.")

    @api.model
    def _work(self, push, settings, audience, now, limit=None):
        """What ``push`` owes its calendar: deletions first, then the bookings to write, upcoming
        first. Writes are of live published bookings of its rooms in the window whose object
        changed since it was pushed (never one refused as it is); deletions are of bookings pushed
        that are not among them any more."""
        return [
            Work(*row)
            for row in self.env.execute_query(self._work_query(push, settings, audience, now, limit))
        ]

    @api.model
    def _count_work(self, push, settings, audience, now):
        """``(owed, published)``: the requests ``push`` owes, and the bookings its calendar should hold."""
        work = self._work_query(push, settings, audience, now)
        live = self._live_query(settings, audience, now)
        [(owed, published)] = self.env.execute_query(
            SQL("SELECT (SELECT count(*) FROM (%s) AS work), (SELECT count(*) FROM (%s) AS live)", work, live)
        )
        return owed, published

    @api.model
    def _live_query(self, settings, audience, now):
        window = settings.window(now)
        domain = self.env["calendar.feed.reader"]._live_domain(
            audience, FeedQuery(), window.start, window.end
        )
        names = ("id", "event_id", "uid", "object_etag", "start_at", "stop_at")
        columns = [SQL.identifier("calendar_feed_entry", name) for name in names]
        return self.env["calendar.feed.entry"].sudo()._search(domain).select(*columns)

    @api.model
    def _work_query(self, push, settings, audience, now, limit=None):
        self.flush_model()  # read in SQL, after what a Resync wrote with the ORM
        return SQL(
            """
            WITH live (entry_id, event_id, uid, etag, start_at, stop_at) AS (%(live)s)
            SELECT event_id, entry_id, uid, etag, href, remote_etag FROM (
                SELECT live.event_id, live.entry_id, live.uid, live.etag, pushed.href, pushed.remote_etag,
                       live.stop_at < %(now)s AS past, live.start_at
                  FROM live
             LEFT JOIN calendar_feed_push_object pushed
                    ON pushed.push_id = %(push)s AND pushed.event_id = live.event_id
                 WHERE pushed.pushed_etag IS DISTINCT FROM live.etag
                   AND pushed.rejected_etag IS DISTINCT FROM live.etag
             UNION ALL
                SELECT pushed.event_id, NULL, pushed.uid, NULL, pushed.href, pushed.remote_etag, NULL, NULL
                  FROM calendar_feed_push_object pushed
                 WHERE pushed.push_id = %(push)s
                   AND NOT EXISTS (SELECT FROM live WHERE live.event_id = pushed.event_id)
            ) AS work
            ORDER BY entry_id IS NOT NULL, past, start_at, event_id
            %(limit)s
            """,
            live=self._live_query(settings, audience, now),
            now=now.replace(tzinfo=None),
            push=push.id,
            limit=SQL("LIMIT %s", limit) if limit else SQL(),
        )

    @api.model
    def _record(self, push, done):
        """Keep what ``push`` did: ``done`` is a list of ``(Work, values)``, values None for an object
        deleted, else its href, remote ETag, whether the server refused it and why."""
        gone = [work.event_id for work, values in done if values is None]
        written = [(work, values) for work, values in done if values is not None]
        if gone:
            self.search([("push_id", "=", push.id), ("event_id", "in", gone)]).unlink()
        if not written:
            return
        now = fields.Datetime.now()
        rows = [
            {
                "push_id": push.id,
                "event_id": work.event_id,
                "uid": work.uid,
                "href": values["href"],
                "remote_etag": values.get("remote_etag"),
                "pushed_etag": None if values.get("error") else work.etag,
                "rejected_etag": work.etag if values.get("error") else None,
                "error": values.get("error"),
                "pushed_at": now,
            }
            for work, values in written
        ]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO calendar_feed_push_object AS pushed (%(columns)s)
                SELECT %(columns)s
                  FROM jsonb_populate_recordset(NULL::calendar_feed_push_object, %(rows)s::jsonb)
                    ON CONFLICT (push_id, event_id) DO UPDATE SET
                       uid = EXCLUDED.uid, href = EXCLUDED.href,
                       -- a refused write changed nothing remotely
                       remote_etag = CASE WHEN EXCLUDED.error IS NULL THEN EXCLUDED.remote_etag
                                          ELSE pushed.remote_etag END,
                       pushed_etag = EXCLUDED.pushed_etag, rejected_etag = EXCLUDED.rejected_etag,
                       error = EXCLUDED.error, pushed_at = EXCLUDED.pushed_at
                """,
                columns=SQL(", ").join(SQL.identifier(column) for column in rows[0]),
                rows=json.dumps(rows, default=str),
            )
        )
        self.invalidate_model()

    @api.model
    def _forget_versions(self, push, remote_objects, database_uuid):
        """Resync: compare with what the remote calendar holds (``RemoteObject`` list). Every booking
        of this database found changed, moved or missing there is written again (or deleted, if
        no longer published); one found there that was never recorded is adopted first. Objects of
        other UIDs are never touched."""
        remote = {}
        for found in remote_objects:
            if (event_id := booking_id_of(found.uid, database_uuid)) is not None:
                remote[event_id] = found
        pushed = {row.event_id: row for row in self.search([("push_id", "=", push.id)])}
        for event_id, row in pushed.items():
            found = remote.get(event_id)
            if found is None or found.etag is None or found.etag != row.remote_etag:
                values = {"pushed_etag": False, "rejected_etag": False, "error": False}
                if found is not None:
                    values |= {"href": found.href, "remote_etag": found.etag}
                row.write(values)
            elif row.rejected_etag:
                row.write({"rejected_etag": False, "error": False})
        self.create(
            [
                {
                    "push_id": push.id,
                    "event_id": event_id,
                    "uid": found.uid,
                    "href": found.href,
                    "remote_etag": found.etag,
                }
                for event_id, found in remote.items()
                if event_id not in pushed
            ]
        )
