"""The servers the push tests run against behave as their docstrings say."""

import contextlib
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

pytest.importorskip("radicale")
pytest.importorskip("xandikos")
pytest.importorskip("oauthlib")

from booking_feed.tests.dav_servers import GoogleProfile, Radicale, ScriptedServer, Xandikos
from booking_feed.tests.oauth_server import TokenEndpoint

CLIENT_ID, CLIENT_SECRET = "odoo-client", "client-secret"
ALICE = ("alice", "alice-password")


def event(uid, summary="OSCE station 1"):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//dav servers//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260301T120000Z\r\nDTSTART:20260305T083000Z\r\n"
        f"DTEND:20260305T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def put(url, body, auth=None, **headers):
    headers = {"Content-Type": "text/calendar; charset=utf-8", **headers}
    return requests.put(url, data=body.encode(), headers=headers, auth=auth, timeout=10)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def caldav():
    return pytest.importorskip("caldav")


@pytest.fixture(scope="module")
def radicale():
    with Radicale({ALICE[0]: ALICE[1], "bob": "bob-password"}) as server:
        yield server


@pytest.fixture(scope="module")
def xandikos():
    with Xandikos() as server:
        yield server


@pytest.fixture
def tokens():
    with TokenEndpoint(CLIENT_ID, CLIENT_SECRET) as endpoint:
        yield endpoint


@pytest.fixture
def google(radicale, tokens):
    with GoogleProfile(radicale.url, ALICE, tokens) as proxy:
        yield proxy


def refresh(tokens, refresh_token):
    """An access token by a real refresh_token grant, the client authenticated by HTTP Basic."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    response = requests.post(tokens.token_url, data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def test_radicale_keeps_an_event_put_with_the_caldav_client(radicale, caldav):
    url = radicale.make_calendar(*ALICE[:1], "keeps")
    with caldav.DAVClient(url=radicale.url, username=ALICE[0], password=ALICE[1]) as client:
        calendar = client.calendar(url=url)
        calendar.save_event(event("kept@test"))
        assert "SUMMARY:OSCE station 1" in calendar.event_by_uid("kept@test").data


def test_radicale_answers_a_wrong_password_with_401(radicale):
    response = requests.request("PROPFIND", radicale.url, auth=(ALICE[0], "wrong"), timeout=10)
    assert response.status_code == 401


def test_a_read_only_radicale_calendar_lists_but_refuses_writes(radicale):
    url = radicale.make_calendar(ALICE[0], "rooms", read_only=True)
    assert put(url + "new.ics", event("new@test"), auth=ALICE).status_code == 403
    assert requests.delete(url + "new.ics", auth=ALICE, timeout=10).status_code == 403
    listing = requests.request("PROPFIND", url, headers={"Depth": "1"}, auth=ALICE, timeout=10)
    assert listing.status_code == 207
    assert (
        put(radicale.make_calendar(ALICE[0], "writable") + "x.ics", event("x"), auth=ALICE).status_code == 201
    )


def test_radicale_keeps_its_events_across_a_restart_on_the_same_port(radicale):
    url = radicale.make_calendar(ALICE[0], "restart") + "kept.ics"
    etag = put(url, event("restart@test"), auth=ALICE).headers["ETag"]
    radicale.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, auth=ALICE, timeout=10)
    radicale.start()
    again = requests.get(url, auth=ALICE, timeout=10)
    assert (again.status_code, again.headers["ETag"]) == (200, etag)


def test_xandikos_keeps_an_event_put_with_the_caldav_client(xandikos, caldav):
    url = xandikos.make_calendar("keeps")
    with caldav.DAVClient(url=xandikos.url) as client:
        calendar = client.calendar(url=url)
        calendar.save_event(event("kept@test"))
        assert "SUMMARY:OSCE station 1" in calendar.event_by_uid("kept@test").data


def test_google_profile_takes_if_match_and_refuses_if_none_match(radicale, tokens, google):
    headers = bearer(refresh(tokens, tokens.issue_refresh_token()))
    url = google.calendar_url(radicale.make_calendar(ALICE[0], "google")) + "booking.ics"
    created = put(url, event("booking@test"), **headers)
    assert created.status_code == 201
    updated = put(url, event("booking@test", "moved"), **headers, **{"If-Match": created.headers["ETag"]})
    assert updated.status_code == 204
    refused = put(url, event("booking@test"), **headers, **{"If-None-Match": "*"})
    assert refused.status_code == 400 and "If-None-Match is not supported" in refused.text
    assert "SUMMARY:moved" in requests.get(url, headers=headers, timeout=10).text
    assert google.requests_by_method["PUT"] == 3


def test_google_profile_relays_a_caldav_client_session(radicale, tokens, google, caldav):
    url = google.calendar_url(radicale.make_calendar(ALICE[0], "session"))
    token = refresh(tokens, tokens.issue_refresh_token())
    # caldav 2.0's auth_type="bearer" builds no auth at all: hand it the auth object instead
    with caldav.DAVClient(url=google.url, auth=caldav.requests.HTTPBearerAuth(token)) as client:
        calendar = client.calendar(url=url)
        calendar.save_event(event("session@test"))
        assert [item.icalendar_component["UID"] for item in calendar.events()] == ["session@test"]


def test_google_profile_refuses_mkcalendar(radicale, tokens, google):
    headers = bearer(refresh(tokens, tokens.issue_refresh_token()))
    response = requests.request("MKCALENDAR", f"{google.url}{ALICE[0]}/made/", headers=headers, timeout=10)
    assert response.status_code == 405
    assert (
        requests.request("PROPFIND", f"{radicale.url}{ALICE[0]}/made/", auth=ALICE, timeout=10).status_code
        == 404
    )


def test_google_profile_wants_a_bearer_token_that_has_not_expired(radicale, tokens, google):
    refresh_token = tokens.issue_refresh_token()
    url = google.calendar_url(radicale.make_calendar(ALICE[0], "expiry"))
    propfind = {"Depth": "0"}
    assert requests.request("PROPFIND", url, headers=propfind, auth=ALICE, timeout=10).status_code == 401
    expired = bearer(refresh(tokens, refresh_token))
    tokens.expire_access_tokens()
    answer = requests.request("PROPFIND", url, headers=propfind | expired, timeout=10)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer ")
    fresh = bearer(refresh(tokens, refresh_token))
    assert requests.request("PROPFIND", url, headers=propfind | fresh, timeout=10).status_code == 207
    assert tokens.token_requests == 2


def test_the_token_endpoint_takes_the_client_in_the_body_and_refuses_a_wrong_secret(tokens):
    form = {"grant_type": "refresh_token", "refresh_token": tokens.issue_refresh_token()}
    answer = requests.post(
        tokens.token_url, data=form | {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, timeout=10
    )
    assert answer.status_code == 200
    assert (answer.json()["token_type"], tokens.is_valid(answer.json()["access_token"])) == ("Bearer", True)
    wrong = requests.post(tokens.token_url, data=form, auth=(CLIENT_ID, "guess"), timeout=10)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    tokens.revoke_refresh_tokens()
    revoked = requests.post(tokens.token_url, data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert (revoked.status_code, revoked.json()["error"]) == (400, "invalid_grant")


def test_the_authorization_code_flow_returns_a_refresh_token(tokens):
    redirect_uri = "http://odoo.test/oauth/callback"
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri}
    query |= {"scope": "https://www.googleapis.com/auth/calendar", "state": "s1"}
    query |= {"access_type": "offline", "prompt": "consent"}
    consent = requests.get(tokens.authorize_url, params=query, allow_redirects=False, timeout=10)
    assert consent.status_code == 302 and consent.headers["Location"].startswith(redirect_uri)
    answer = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert answer["state"] == ["s1"]
    form = {"grant_type": "authorization_code", "code": answer["code"][0], "redirect_uri": redirect_uri}
    grant = requests.post(tokens.token_url, data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10).json()
    assert (grant["token_type"], grant["expires_in"], bool(grant["refresh_token"])) == ("Bearer", 3600, True)
    assert tokens.is_valid(grant["access_token"])
    assert refresh(tokens, grant["refresh_token"])
    reused = requests.post(tokens.token_url, data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert reused.json()["error"] == "invalid_grant"


def test_a_scripted_server_answers_what_the_script_writes():
    def teapot(method, path, headers, body, wfile):
        wfile.write(b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    with ScriptedServer(teapot) as server:
        answer = requests.post(server.url + "brew?x=1", data=b"earl grey", timeout=10)
        assert (answer.status_code, answer.content) == (418, b"earl grey")
        assert [(method, path) for method, path, *_rest in server.requests] == [("POST", "/brew?x=1")]


def read_until_closed(answer):
    with contextlib.suppress(requests.RequestException):
        answer.content  # noqa: B018 (reading is the point)


def test_stopping_a_scripted_server_does_not_wait_for_a_trickling_answer():
    def trickle(method, path, headers, body, wfile):
        wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\n\r\n")
        while True:
            wfile.write(b"BEGIN:VEVENT\r\n")
            time.sleep(0.05)

    server = ScriptedServer(trickle)
    server.start()
    answer = requests.get(server.url, stream=True, timeout=10)
    reader = threading.Thread(target=read_until_closed, args=(answer,), daemon=True)
    reader.start()
    started = time.monotonic()
    server.stop()
    reader.join(5)
    assert not reader.is_alive() and time.monotonic() - started < 2
