"""The push client against real servers (Radicale, Xandikos, Google's rules) and hostile ones."""

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_feed.caldav_client import CalDavCalendar
from booking_feed.ics import calendar_object
from booking_feed.oauth import redeem_code, refresh
from booking_feed.push import Verdict, Work, backoff, judge, retry_after, send
from booking_feed.remote import Answer, check_url, exchange, new_session, same_host

pytest.importorskip("radicale")
pytest.importorskip("xandikos")
pytest.importorskip("oauthlib")
caldav = pytest.importorskip("caldav")

from booking_feed.tests.dav_servers import GoogleProfile, Radicale, ScriptedServer, Xandikos  # noqa: E402
from booking_feed.tests.faked_clock import MONOTONIC_FAKED, WAITS_FAKED  # noqa: E402
from booking_feed.tests.oauth_server import TokenEndpoint  # noqa: E402

UID = "calendar-event-7-db-uuid@odoo"


def vevent(uid=UID, summary="OSCE station 1"):
    return calendar_object(
        (
            "BEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260301T120000Z\r\nDTSTART:20260305T083000Z\r\n"
            f"DTEND:20260305T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
        ).encode()
    )


def basic(user, password):
    return requests.auth._basic_auth_str(user, password)


@pytest.fixture(scope="module")
def radicale():
    with Radicale(users={"rooms": "secret", "reader": "secret"}) as server:
        yield server


def remote_summaries(url, auth=None):
    with caldav.DAVClient(url, username=auth and auth[0], password=auth and auth[1]) as client:
        events = client.calendar(url=url).events()
        return sorted(str(event.icalendar_component["SUMMARY"]) for event in events)


def test_a_written_object_is_read_back_overwritten_then_deleted(radicale):
    url = radicale.make_calendar("rooms", "sim-1")
    remote = CalDavCalendar(url, basic("rooms", "secret"))
    href = remote.href_for(UID)
    created = remote.put(href, vevent())
    assert created.status in (200, 201, 204)
    assert remote_summaries(url, ("rooms", "secret")) == ["OSCE station 1"]
    _answer, etag = remote.etag(href)
    assert etag == created.headers["etag"]
    assert remote.put(href, vevent(summary="Changed"), etag).succeeded
    assert judge(remote.put(href, vevent(summary="Stale"), etag))[0] is Verdict.CONFLICT, "If-Match holds"
    assert remote_summaries(url, ("rooms", "secret")) == ["Changed"]
    _answer, [found] = remote.objects()
    assert (found.uid, found.href) == (UID, href)
    assert judge(remote.delete(href), deleting=True)[0] is Verdict.DONE
    assert judge(remote.delete(href), deleting=True)[0] is Verdict.DONE, "already gone is done"
    assert remote_summaries(url, ("rooms", "secret")) == []


def test_the_probe_says_name_size_and_whether_the_account_may_write(radicale):
    url = radicale.make_calendar("rooms", "probe")
    remote = CalDavCalendar(url, basic("rooms", "secret"))
    remote.put(remote.href_for(UID), vevent())
    probe = remote.probe()
    assert (probe.answer.succeeded, probe.objects, probe.writable) == (True, 1, True)
    assert probe.name == "rooms/probe"  # Radicale names a calendar after its path
    wrong = CalDavCalendar(url, basic("rooms", "wrong")).probe()
    assert wrong.answer.status == 401
    missing = CalDavCalendar(radicale.url + "rooms/nothing-here/", basic("rooms", "secret")).probe()
    assert missing.answer.status == 404
    read_only = radicale.make_calendar("rooms", "read-only", read_only=True)
    refused = CalDavCalendar(read_only, basic("rooms", "secret"))
    assert refused.probe().writable is False
    assert judge(refused.put(refused.href_for(UID), vevent()))[0] is Verdict.UNAUTHORIZED


def test_xandikos_takes_the_same_requests():
    with Xandikos() as server:
        url = server.make_calendar("sim-1")
        remote = CalDavCalendar(url)
        work = [Work(7, 1, UID, '"a"', None, None), Work(8, 2, UID.replace("-7-", "-8-"), '"b"', None, None)]
        bodies = {1: vevent(), 2: vevent(work[1].uid, "Debriefing")}
        done, stopped = send(remote, work, bodies, pace=0)
        assert stopped is None
        assert remote_summaries(url) == ["Debriefing", "OSCE station 1"]
        assert all(values["remote_etag"] for _work, values in done)
        probe = remote.probe()
        assert (probe.objects, probe.answer.succeeded) == (2, True)


def test_through_googles_rules_with_a_refreshed_token(radicale):
    upstream = radicale.make_calendar("rooms", "google")
    with (
        TokenEndpoint("client", "client-secret", lifetime=3600) as tokens,
        GoogleProfile(radicale.url, ("rooms", "secret"), tokens) as google,
    ):
        session = new_session()
        token, problem = refresh(
            session, tokens.token_url, "client", "client-secret", refresh_token=tokens.issue_refresh_token()
        )
        assert problem is None and token.expires_in == 3600
        remote = CalDavCalendar(google.calendar_url(upstream), "Bearer " + token.access_token)
        work = [Work(7, 1, UID, '"a"', None, None)]
        done, stopped = send(remote, work, {1: vevent()}, pace=0)
        assert stopped is None
        [(_work, values)] = done
        rewrite = [Work(7, 1, UID, '"b"', values["href"], values["remote_etag"])]
        assert send(remote, rewrite, {1: vevent(summary="Again")}, pace=0)[1] is None
        assert google.requests_by_method["PUT"] == 2 and "MKCALENDAR" not in google.requests_by_method
        tokens.expire_access_tokens()
        assert judge(remote.put(values["href"], vevent()))[0] is Verdict.UNAUTHORIZED
        _token, refused = refresh(session, tokens.token_url, "client", "wrong", refresh_token=UID)
        assert "refused" in refused.describe()


def test_the_consent_code_is_redeemed_for_a_refresh_token():
    with TokenEndpoint("client", "client-secret") as tokens:
        consent = requests.get(
            tokens.authorize_url,
            params={
                "response_type": "code",
                "client_id": "client",
                "redirect_uri": "https://odoo.example.com/back",
                "scope": "calendar",
                "state": "xyz",
            },
            allow_redirects=False,
            timeout=10,
        )
        code = requests.utils.urlparse(consent.headers["Location"]).query.split("code=")[1].split("&")[0]
        token, problem = redeem_code(
            new_session(),
            tokens.token_url,
            "client",
            "client-secret",
            code=code,
            redirect_uri="https://odoo.example.com/back",
        )
        assert problem is None and token.refresh_token and tokens.is_valid(token.access_token)


def test_verdicts_waits_and_redirect_rules():
    assert judge(Answer(429, {"retry-after": "30"}))[0] is Verdict.THROTTLED
    assert judge(Answer(500))[0] is Verdict.UNAVAILABLE
    assert judge(Answer(415, body=b"no such thing"))[1].describe().endswith("no such thing")
    assert judge(Answer(404))[0] is Verdict.MISSING
    now = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
    assert retry_after("30", now) == timedelta(seconds=30)
    assert retry_after("Thu, 05 Mar 2026 12:02:00 GMT", now) == timedelta(minutes=2)
    assert retry_after("999999999", now) == timedelta(hours=1)
    assert retry_after("soon", now) is None
    assert [backoff(n) for n in (1, 2, 3, 7, 50)] == [timedelta(minutes=m) for m in (1, 2, 4, 60, 60)]
    assert same_host("http://a.example/x", "https://a.example/y")
    assert not same_host("https://a.example/x", "http://a.example/y")
    assert not same_host("https://a.example/x", "https://b.example/x")
    assert not same_host("https://a.example/x", "https://user:pw@a.example/x")
    assert check_url("https://user:pw@a.example/") == "credentials do not belong in the URL"


def test_a_redirect_to_another_host_is_reported_and_the_credentials_stay_home():
    elsewhere = ScriptedServer(lambda *request: request[-1].write(b"HTTP/1.1 201 Created\r\n\r\n"))
    with elsewhere:
        target = elsewhere.url.replace("127.0.0.1", "localhost")

        def redirect(_method, _path, _headers, _body, wfile):
            wfile.write(
                f"HTTP/1.1 307 Moved\r\nLocation: {target}cal/x.ics\r\nContent-Length: 0\r\n\r\n".encode()
            )

        with ScriptedServer(redirect) as server:
            remote = CalDavCalendar(server.url + "cal/", basic("rooms", "secret"))
            answer = remote.put(remote.href_for(UID), vevent())
        assert "another host (localhost)" in answer.problem.describe()
        assert elsewhere.requests == []
        assert server.requests[0][2]["Authorization"] == basic("rooms", "secret")


HOSTILE_ANSWERS = st.one_of(
    st.binary(max_size=300).map(
        lambda junk: b"HTTP/1.1 207 Multi-Status\r\nContent-Length: %d\r\n\r\n%s" % (len(junk), junk)
    ),
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"HTTP/1.1 207 Multi-Status\r\nContent-Type: text/html\r\n\r\n<html>not dav</html>",
            b"HTTP/1.1 207 Multi-Status\r\n\r\n"
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
            b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\nshort",
            b"HTTP/1.1 503 Busy\r\nRetry-After: tomorrow\r\n\r\n",
            b"HTTP/1.1 412 Precondition Failed\r\n\r\n",
            b"",
        ]
    ),
)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.lists(HOSTILE_ANSWERS, min_size=1, max_size=4), endless=st.booleans())
def test_no_server_answer_raises_or_outlives_the_deadline(answers, endless):
    """Whatever comes back, every operation returns an answer, within its deadline."""
    script = list(answers)

    def answer(_method, _path, _headers, _body, wfile):
        wfile.write(script[len(server.requests) % len(script)])
        if endless:
            wfile.write(b"HTTP/1.1 207 Multi-Status\r\n\r\n")
            for _chunk in range(20):
                wfile.write(b"<" * 70000)

    with ScriptedServer(answer) as server:
        remote = CalDavCalendar(server.url + "cal/", basic("rooms", "secret"), deadline=0.5)
        started = time.monotonic()
        remote.probe()
        remote.objects()
        send(
            remote,
            [Work(7, 1, UID, '"a"', None, '"old"'), Work(8, None, UID, None, "/cal/x.ics", '"e"')],
            {1: vevent()},
            0,
        )
        assert time.monotonic() - started < 6 * (0.5 + 1) + 2 * 120


@pytest.mark.skipif(MONOTONIC_FAKED, reason=WAITS_FAKED)
def test_a_trickling_server_is_cut_off_at_the_deadline():
    def trickle(_method, _path, _headers, _body, wfile):
        wfile.write(b"HTTP/1.1 207 Multi-Status\r\nContent-Length: 100\r\n\r\n")
        for _byte in range(100):
            wfile.write(b"<")
            wfile.flush()
            time.sleep(0.2)

    with ScriptedServer(trickle) as server:
        started = time.monotonic()
        answer = exchange(new_session(), "GET", server.url, deadline=1, max_bytes=1000)
        assert answer.status is None and "within 1 s" in answer.problem.describe()
        assert time.monotonic() - started < 3
