import json
from datetime import timedelta, timezone

from odoo.tests import HttpCase, tagged
from odoo.tools import file_open, mute_logger

from ..booking_feed import assemble_document
from ..booking_feed.audience import EVERY_ROOM
from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase, optional_test_dependency, require

#: What reads and checks the OpenAPI document; referencing.jsonschema is a submodule, imported to be reached.
SPEC_TOOLS = {
    name: optional_test_dependency(name)
    for name in ("yaml", "jsonschema", "openapi_spec_validator", "referencing", "referencing.jsonschema")
}
yaml, jsonschema, openapi_spec_validator, referencing = (SPEC_TOOLS[name] for name in list(SPEC_TOOLS)[:4])

BASE = "/w/api/v2/public_calendar"


def load_spec():
    with file_open("external_calendar_api/static/api/openapi.yml") as document:
        return yaml.safe_load(document)


@tagged("post_install", "-at_install")
class TestJsonApi(FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.set_feed_param("future_days", 14)
        cls.set_feed_param("publish_tentative", True)
        # On local days after today (requests use the real clock), so all are still to come.
        for days, room, name, status in (
            (1, cls.sim_room, "OSCE station 1", "confirmed"),
            (3, cls.sim_room, "BLS course", "tentative"),
            (2, cls.debriefing, "OSCE debrief", "confirmed"),
            (5, cls.debriefing, "Faculty meeting", "confirmed"),
        ):
            cls.book(
                room, cls.local_time(days, 9), cls.local_time(days, 10), name=name, booking_status=status
            )
        cls.validators = None
        if all(SPEC_TOOLS.values()):
            contents = referencing.Resource.from_contents(load_spec(), referencing.jsonschema.DRAFT202012)
            registry = referencing.Registry().with_resource("urn:spec", contents)
            cls.validators = {
                name: jsonschema.Draft202012Validator(
                    {"$ref": f"urn:spec#/components/schemas/{name}"}, registry=registry
                )
                for name in ("EventList", "RoomCounts", "NextEvents", "Error")
            }

    def setUp(self):
        super().setUp()
        require(self, **{name.replace(".", "_"): module for name, module in SPEC_TOOLS.items()})

    def get(self, path, schema, expect=200, **params):
        query = "&".join(
            f"{name}={value}"
            for name, values in params.items()
            for value in (values if isinstance(values, list) else [values])
        )
        response = self.url_open(f"{BASE}{path}?token={self.token}&{query}")
        self.assertEqual(response.status_code, expect, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        payload = response.json()
        self.validators[schema].validate(payload)
        return payload

    def titles(self, **params):
        return [event["activity"]["title"] for event in self.get(".json", "EventList", **params)["events"]]

    def test_openapi_document_is_valid_and_served_only_while_enabled(self):
        openapi_spec_validator.validate(load_spec())
        response = self.url_open("/w/api/v2/openapi.yml")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(yaml.safe_load(response.content)["openapi"], "3.1.0")
        self.set_feed_param("enabled", False)
        self.assertEqual(self.url_open("/w/api/v2/openapi.yml").status_code, 404)

    def test_full_document_matches_the_schema(self):
        payload = self.get(".json", "EventList")
        self.assertEqual(len(payload["events"]), 4)
        self.assertIsNone(payload["nextCursor"])
        self.assertTrue(payload["syncToken"])

    def test_filters_select_events_ordered_by_start(self):
        self.assertEqual(self.titles(room="TSIM1"), ["OSCE station 1", "BLS course"])
        self.assertEqual(self.titles(q="osce"), ["OSCE station 1", "OSCE debrief"])
        self.assertEqual(self.titles(q="OSCE debrief"), ["OSCE debrief"])
        self.assertEqual(self.titles(status="tentative"), ["BLS course"])
        self.assertEqual(
            self.titles(room=["TSIM1", "TDEBRIEF"], status="confirmed"),
            ["OSCE station 1", "OSCE debrief", "Faculty meeting"],
        )
        start, end = self.local_date(2), self.local_date(3)
        self.assertEqual(self.titles(**{"from": start, "to": end}), ["OSCE debrief", "BLS course"])

    def test_paging_follows_cursors_to_a_sync_token(self):
        first = self.get(".json", "EventList", limit=3)
        self.assertEqual(len(first["events"]), 3)
        self.assertIsNone(first["syncToken"])
        second = self.get(".json", "EventList", limit=3, cursor=first["nextCursor"])
        self.assertEqual([e["activity"]["title"] for e in second["events"]], ["Faculty meeting"])
        self.assertIsNone(second["nextCursor"])
        delta = self.get(".json", "EventList", since=second["syncToken"])
        self.assertEqual((delta["events"], delta["deleted"]), ([], []))

    def test_bad_values_and_unknown_parameters_get_a_json_400(self):
        for params, reason in (
            ({"room": "NOPE"}, "no published room with code NOPE"),
            ({"from": "soon"}, "not an ISO date"),
            ({"status": "cancelled"}, "status: 'cancelled' is not one of confirmed, tentative"),
            ({"limit": "0"}, "limit: '0' is not a whole number from 1 to 1000"),
            ({"limit": "1001"}, "from 1 to 1000"),
            ({"since": "garbage"}, "not a since this API issued"),
            ({"rooms": "TSIM1"}, "unknown parameter 'rooms'"),
        ):
            with self.subTest(params=params):
                error = self.get(".json", "Error", expect=400, **params)["error"]
                self.assertEqual(error["code"], "bad_request")
                self.assertIn(reason, error["message"])

    def test_room_counts_match_the_room_feeds(self):
        counts = {room["code"]: room["eventCount"] for room in self.get("/rooms.json", "RoomCounts")["rooms"]}
        self.assertEqual(counts, {"TSIM1": 2, "TDEBRIEF": 2})
        for code, count in counts.items():
            ics = self.url_open(f"{BASE}.ics?token={self.token}&room={code}")
            events = [e for e in check_ics(ics.content).walk("VEVENT") if str(e["STATUS"]) != "CANCELLED"]
            self.assertEqual(len(events), count)
        narrowed = self.get("/rooms.json", "RoomCounts", **{"from": self.local_date(2)})
        self.assertEqual(
            {room["code"]: room["eventCount"] for room in narrowed["rooms"]}, {"TSIM1": 1, "TDEBRIEF": 2}
        )
        self.get("/rooms.json", "Error", expect=400, q="OSCE")

    def test_next_event_by_title_and_room(self):
        payload = self.get("/next.json", "NextEvents", q="OSCE")
        self.assertEqual([e["activity"]["title"] for e in payload["events"]], ["OSCE station 1"])
        payload = self.get("/next.json", "NextEvents", q="OSCE", room="TDEBRIEF", limit=5)
        self.assertEqual([e["activity"]["title"] for e in payload["events"]], ["OSCE debrief"])
        self.assertEqual(self.get("/next.json", "NextEvents", q="no such course")["events"], [])
        self.get("/next.json", "Error", expect=400, limit=101)

    def test_next_events_are_the_same_bytes_for_a_minute(self):
        feed = self.env["calendar.feed"]._get_up_to_date()
        settings = feed._get_settings()
        Reader = self.env["calendar.feed.reader"]
        query = Reader._parse_query({}, settings, EVERY_ROOM)
        minute = self.local_time(1, 8).replace(tzinfo=timezone.utc)

        def answer(seconds):
            now = minute + timedelta(seconds=seconds)
            return assemble_document(
                *Reader._next_events(feed, settings, EVERY_ROOM, query, limit=5, now=now)
            )

        self.assertEqual(answer(1), answer(59))
        self.assertNotEqual(answer(59), answer(60))

    def test_answers_before_the_first_build_are_503(self):
        self.break_builds()  # the first build fails
        with mute_logger("odoo.addons.external_calendar_api.models.calendar_feed", "odoo.sql_db"):
            for path, params in (
                ("/rooms.json", {}),
                ("/next.json", {"q": "OSCE"}),
                (".json", {"q": "OSCE"}),
            ):
                with self.subTest(path=path):
                    error = self.get(path, "Error", expect=503, **params)
                    self.assertEqual(error["error"]["code"], "not_built_yet")

    def test_expired_sync_token_gets_410(self):
        token = self.get(".json", "EventList", limit=10)["syncToken"]
        feed = self.env["calendar.feed"]._get_singleton()
        feed.sync_floor = feed.change_stamp + 1  # as after pruning a tombstone stamped later
        error = self.get(".json", "Error", expect=410, since=token)["error"]
        self.assertEqual(error["code"], "sync_token_expired")
        self.assertIn("full sync", error["message"])

    def test_new_routes_take_a_bearer_token_and_hide_behind_404(self):
        for path in ("/rooms.json", "/next.json"):
            response = self.url_open(f"{BASE}{path}", headers={"Authorization": f"Bearer {self.token}"})
            self.assertEqual(response.status_code, 200)
            wrong = self.url_open(f"{BASE}{path}?token=wrong")
            unknown = self.url_open("/w/api/v2/no_such_route.json")
            self.assertEqual((wrong.status_code, wrong.text), (404, unknown.text))

    def test_json_answers_revalidate_with_304(self):
        response = self.url_open(f"{BASE}.json?token={self.token}&room=TSIM1")
        again = self.url_open(
            f"{BASE}.json?token={self.token}&room=TSIM1", headers={"If-None-Match": response.headers["ETag"]}
        )
        self.assertEqual(again.status_code, 304)
        self.assertEqual(json.loads(response.content)["events"][0]["rooms"][0]["code"], "TSIM1")
