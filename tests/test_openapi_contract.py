"""The OpenAPI document and the live routes agree: schemathesis against the test server.

Positive and negative data (examples, coverage and fuzzing phases) and the
stateful phase, which follows the document's links from ``nextCursor`` to
``cursor`` and from ``syncToken`` to ``since``. Seeded and deterministic,
with a bounded number of examples, so a failure names a request that
replays. Every check of schemathesis runs, but two, replaced or left out for
the reasons given below; any failure, schema error or unfollowed link fails
the test.
"""

import json
import unittest

from odoo.tests import HttpCase, tagged
from odoo.tools import file_open

from ..booking_feed.tests.faked_clock import MONOTONIC_FAKED, WAITS_FAKED
from .common import FeedCase, optional_test_dependency, require

schemathesis = optional_test_dependency("schemathesis")
yaml = optional_test_dependency("yaml")

SEED = 20261203
#: A 400 for schema-valid data is right when it names a rule no JSON Schema can state: one between
#: two parameters, or a cursor or sync token that only this server can make (any other is refused).
RULES_NO_SCHEMA_STATES = (
    "to: must be after from",
    "days asked for, at most 366",
    "not a cursor this API issued",
    "not a since this API issued",
    "issued for other filters",
    "belongs to a request with another since",
)
CHECKS = {
    "enabled": True,
    # Replaced by the check below, which allows the 400s of RULES_NO_SCHEMA_STATES.
    "positive_data_acceptance": {"enabled": False},
    # It wants a 401 or 403 without the token; the API answers the 404 of a path that does not
    # exist instead, on purpose (the document's NotFound), so that no one learns a feed is there.
    "ignored_auth": {"enabled": False},
}


def reason_of(response):
    """The message of an error answer: JSON on JSON routes, a line of text on the ICS routes."""
    try:
        return json.loads(response.content)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.content.decode(errors="replace")


def resolved_links(transition, query):
    """Which of cursor and since a stateful step took from the previous answer, through a link."""
    from schemathesis.core.result import Ok  # noqa: PLC0415

    extracted = transition.parameters.get("query", {})
    return {
        name
        for name in ("cursor", "since")
        if name in extracted
        and isinstance(extracted[name].value, Ok)
        and query.get(name) == extracted[name].value.ok()
        and isinstance(query.get(name), str)
    }


def positive_data_accepted_but_for_rules_no_schema_states(ctx, response, case):
    """schemathesis's positive_data_acceptance, but for the 400s of RULES_NO_SCHEMA_STATES."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: PLC0415

    if response.status_code == 400 and any(rule in reason_of(response) for rule in RULES_NO_SCHEMA_STATES):
        return None
    return positive_data_acceptance(ctx, response, case)


@tagged("post_install", "-at_install")
class TestOpenApiContract(FeedCase, HttpCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.set_feed_param("publish_tentative", True)
        # Enough bookings that pages of a few events have a next one, for the nextPage link.
        for days in range(5):
            for hour, room, status in (
                (9, cls.sim_room, "confirmed"),
                (11, cls.sim_room, "tentative"),
                (14, cls.debriefing, "confirmed"),
                (16, cls.sim_room | cls.debriefing, "confirmed"),
            ):
                cls.book(
                    room, cls.local_time(days, hour), cls.local_time(days, hour + 1), booking_status=status
                )

    def setUp(self):
        super().setUp()
        require(self, schemathesis=schemathesis, yaml=yaml)

    def spec(self):
        """The served document, with this database's room codes as the values ``room`` may take:
        rooms are a deployment's data, which a generated client of it knows and no document can."""
        with file_open("external_calendar_api/static/api/openapi.yml") as document:
            spec = yaml.safe_load(document)
        spec["components"]["schemas"]["RoomCode"]["enum"] = ["TSIM1", "TDEBRIEF"]
        return spec

    def run_schemathesis(self):
        """The events of one seeded run against the test server."""
        from schemathesis.checks import CHECKS as REGISTRY  # noqa: PLC0415
        from schemathesis.engine import from_schema  # noqa: PLC0415

        schemathesis.check(positive_data_accepted_but_for_rules_no_schema_states)
        self.addCleanup(REGISTRY.unregister, positive_data_accepted_but_for_rules_no_schema_states.__name__)
        config = schemathesis.Config.from_dict(
            {
                "seed": SEED,
                # Half the limits drawn are the page sizes of a paging client (of 1 to 1000), so that
                # answers have a next page and the stateful phase follows nextPage too.
                "dictionaries": {"page_sizes": {"values": [1, 2, 3]}},
                "parameters": {"limit": {"dictionary": "page_sizes", "probability": 0.5}},
                "base-url": self.base_url(),
                "generation": {"mode": "all", "max-examples": 10, "deterministic": True},
                "auth": {"openapi": {"token": {"api_key": self.token}}},
                "checks": CHECKS,
                "phases": {"stateful": {"max-steps": 6, "generation": {"max-examples": 10}}},
            }
        )
        schema = schemathesis.openapi.from_dict(self.spec(), config=config)
        # The test server answers schemathesis's requests too, which lack the test's cookie.
        with self.allow_requests(all_requests=True):
            return list(from_schema(schema).execute())

    @unittest.skipIf(MONOTONIC_FAKED, WAITS_FAKED)  # schemathesis's engine waits on timed queues
    def test_the_routes_answer_as_the_openapi_document_says(self):
        from schemathesis.engine import StopReason, events  # noqa: PLC0415

        run = self.run_schemathesis()
        problems, modes, followed = findings(run)
        self.assertIsInstance(run[-1], events.EngineFinished)
        self.assertEqual(run[-1].stop_reason, StopReason.COMPLETED)
        self.assertEqual(problems, [])
        self.assertEqual(modes, {"positive", "negative"})
        self.assertEqual(followed, {"cursor", "since"}, "the stateful phase follows both links")


def findings(run):
    """``(problems, generation modes, links followed)`` of a run's events: each failed check with
    its request and answer, and each error (an invalid document, a link that does not resolve)."""
    from schemathesis.engine import events  # noqa: PLC0415

    problems, modes, followed = set(), set(), set()
    for event in run:
        if isinstance(event, events.NonFatalError):
            problems.add(f"error: {event.value}")
        elif isinstance(event, events.FatalError):
            problems.add(f"fatal error: {event.exception}")
        elif isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for case_id, node in recorder.cases.items():
                modes.add(node.value.meta.generation.mode.value if node.value.meta else None)
                if node.transition is not None and node.is_transition_applied:
                    followed |= resolved_links(node.transition, node.value.query or {})
                problems |= {
                    failed(event.phase.name, check, recorder.interactions.get(case_id))
                    for check in recorder.checks.get(case_id, [])
                    if check.failure_info
                }
    return sorted(problems), modes, followed


def failed(phase, check, interaction):
    """One line saying which check failed, on which request, with which answer."""
    failure = check.failure_info.failure
    request = interaction.request.uri if interaction else "?"
    answer = interaction.response if interaction else None
    answered = f"{answer.status_code} {reason_of(answer)[:200]}" if answer is not None else "no answer"
    return f"{phase} {failure.operation} {check.name}: {failure.title}; {request} -> {answered}"
