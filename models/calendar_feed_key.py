import hashlib
import hmac
import re
import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError

#: Characters of a key shown to recognise it; 48 bits, so keys rarely share one.
PREFIX_LENGTH = 8
#: What ``secrets.token_urlsafe(32)`` makes: anything else is not a key, and is not looked up.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
#: What a key reads: bookings as published, or only when rooms are busy.
ACCESS_LEVELS = [("full", "Full details"), ("busy", "Busy only")]
#: Columns only ``generate`` sets.
SECRET_FIELDS = ("prefix", "token_hash")


def hash_token(token):
    """SHA-256 of a secret: right for long random secrets, which need no slow password hash."""
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeedKey(models.Model):
    """A named secret for one subscriber of the feeds, optionally limited to some rooms.

    Each display or integration gets its own key, so that one can be cut off
    without breaking the others. The secret is shown once, when the key is
    made by :meth:`generate`, and stored only as a hash; its first characters
    (``prefix``) stay visible so an administrator can tell keys apart.
    Revoking a key archives it: its links answer 404 at once.
    """

    _name = "calendar.feed.key"
    _description = "External Calendar Feed Key"
    _order = "create_date desc, id desc"

    name = fields.Char(required=True, help="Who or what the key is for, e.g. Reception display or IT sync.")
    room_ids = fields.Many2many(
        "calendar.room",
        string="Rooms",
        help="The key answers only for these rooms, and names only these. Empty: every published room.",
    )
    access = fields.Selection(
        ACCESS_LEVELS,
        required=True,
        default="full",
        help="Full details: bookings as published. Busy only: free/busy time and the room finder in full,"
        " and every booking as Busy, with no description nor organizer, on every other route"
        " (for a public website or a partner institution).",
    )
    active = fields.Boolean(default=True, help="Revoked keys are archived: their links stop working.")
    prefix = fields.Char(readonly=True, index=True, help="The first characters of the secret.")
    token_hash = fields.Char(readonly=True, required=True, copy=False)
    last_used = fields.Datetime(compute="_compute_usage")
    request_count = fields.Integer("Requests (30 days)", compute="_compute_usage")

    _token_hash_unique = models.Constraint("UNIQUE(token_hash)", "Two keys cannot share a secret.")

    @api.model
    def generate(self, vals):
        """Create a key from ``vals`` (as for ``create``) and return its secret and links, once.

        Returns ``{"id", "token", "ics_url", "json_url"}``: the only time the
        secret leaves the server.
        """
        token = secrets.token_urlsafe(32)
        key = self.create({**vals, "prefix": token[:PREFIX_LENGTH], "token_hash": hash_token(token)})
        Feed = self.env["calendar.feed"]
        return {
            "id": key.id,
            "token": token,
            "ics_url": Feed._get_feed_url("ics", token=token),
            "json_url": Feed._get_feed_url("json", token=token),
        }

    @api.model_create_multi
    def create(self, vals_list):
        # Also refuses copies: the secret is not copied.
        if any(not vals.get("token_hash") for vals in vals_list):
            raise UserError(self.env._("Feed keys are made with generate(), which shows their secret once."))
        return super().create(vals_list)

    def write(self, vals):
        if any(name in vals for name in SECRET_FIELDS):
            raise UserError(self.env._("A key's secret cannot be changed: revoke it and make a new one."))
        if vals.get("active") and not all(self.mapped("active")):
            # Its secret may have leaked: that is what revoking was for.
            raise UserError(self.env._("A revoked key stays revoked: make a new one."))
        return super().write(vals)

    def action_revoke(self):
        """Archive the keys: their links answer 404 from now on."""
        self.action_archive()

    # -- serving --------------------------------------------------------------

    @api.model
    def _find_by_token(self, token):
        """The active key whose secret is ``token`` (empty if none), compared in constant time."""
        if not TOKEN_PATTERN.fullmatch(token or ""):
            return self.browse()
        candidates = self.sudo().search_fetch([("prefix", "=", token[:PREFIX_LENGTH])], ["token_hash"])
        digest = hash_token(token)
        return candidates.filtered(lambda key: hmac.compare_digest(key.token_hash, digest))[:1]

    @api.model
    def _find_audience(self, token):
        """The audience of the active key whose secret is ``token``, None if there is none."""
        key = self._find_by_token(token)
        return key._get_audience() if key else None

    def _get_audience(self):
        """Who the key opens the feeds to: its rooms (every published room if it has none), in full
        or busy only."""
        self.ensure_one()
        # Archived rooms too: a key limited to an archived room sees nothing, not everything.
        rooms = self.sudo().with_context(active_test=False).room_ids
        return rooms._get_feed_audience(key_id=self.id, busy_only=self.access == "busy")

    # -- usage ----------------------------------------------------------------

    def _compute_usage(self):
        usage = self.env["calendar.feed.usage"]._get_usage(self.ids)
        for key in self:
            key.last_used, key.request_count = usage.get(key.id, (False, 0))
