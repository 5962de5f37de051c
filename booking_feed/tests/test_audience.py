from booking_feed import FeedRoom
from booking_feed.audience import EVERY_ROOM, Audience
from booking_feed.sync import filter_signature

SIM_ROOM = FeedRoom(id=1, code="SIM1", name="Sim Room 1")
DEBRIEF = FeedRoom(id=2, code="DEBRIEF", name="Debriefing")
SIM_ONLY = Audience(rooms=("SIM1",), seen_rooms=("OLD", "SIM1"), key_id=4)


def test_the_main_link_reads_every_room_and_learns_every_departure():
    assert not EVERY_ROOM.is_limited
    assert EVERY_ROOM.reads() is None
    assert EVERY_ROOM.learns_departures_from() is None
    assert EVERY_ROOM.reads(["DEBRIEF"]) == ("DEBRIEF",)


def test_a_limited_audience_reads_its_rooms_and_learns_departures_from_all_it_was_given():
    assert SIM_ONLY.is_limited
    assert SIM_ONLY.reads() == ("SIM1",)
    assert SIM_ONLY.learns_departures_from() == ("OLD", "SIM1")
    assert SIM_ONLY.reads(["SIM1"]) == ("SIM1",)
    # Never beyond its rooms, whatever a caller asks.
    assert SIM_ONLY.reads(["SIM1", "DEBRIEF"]) == ("SIM1",)
    assert SIM_ONLY.reads(["DEBRIEF"]) == ()
    assert SIM_ONLY.learns_departures_from(["OLD", "DEBRIEF"]) == ("OLD",)
    assert Audience(rooms=(), seen_rooms=("OLD",)).reads() == ()


def test_a_booking_of_other_rooms_too_is_trimmed_to_the_audiences(make_event):
    both = make_event(rooms=(SIM_ROOM, DEBRIEF))
    assert SIM_ONLY.names_rooms_outside(["SIM1", "DEBRIEF"])
    assert not SIM_ONLY.names_rooms_outside(["SIM1"])
    assert SIM_ONLY.trim(both).rooms == (SIM_ROOM,)
    assert EVERY_ROOM.trim(both) is both
    only_sim = make_event()
    assert SIM_ONLY.trim(only_sim) is only_sim


def test_tokens_of_a_limited_audience_are_bound_to_its_rooms():
    filters = [("room", ["SIM1"])]
    assert EVERY_ROOM.signature(filters) == filter_signature(filters)
    assert SIM_ONLY.signature(filters) != EVERY_ROOM.signature(filters)
    assert SIM_ONLY.signature(filters) != Audience(rooms=("SIM1", "DEBRIEF")).signature(filters)


BUSY_SIM_ONLY = Audience(rooms=("SIM1",), seen_rooms=("SIM1",), busy_only=True)


def test_a_busy_only_audience_reads_every_booking_as_busy(make_event):
    event = make_event(
        rooms=(SIM_ROOM, DEBRIEF),
        description="Board plans",
        color="#3366ff",
        organizer_name="Dr. Organizer",
        organizer_email="organizer@example.com",
    )
    busy = BUSY_SIM_ONLY.trim(event)
    assert (busy.public_title, busy.public_description, busy.title) == ("Busy", "", "Busy")
    assert (busy.organizer_name, busy.organizer_email, busy.private) == ("", "", True)
    assert busy.color == "", "a tag's colour hints at what the booking is"
    assert busy.rooms == (SIM_ROOM,)
    assert (busy.start, busy.end, busy.status, busy.busy) == (
        event.start,
        event.end,
        event.status,
        event.busy,
    )
    assert not BUSY_SIM_ONLY.reads_as_published
    assert not Audience(busy_only=True).reads_as_published
    assert EVERY_ROOM.reads_as_published


def test_a_key_turned_busy_only_gets_new_tokens_and_ctags():
    # Its clients must fetch every object again, or they keep the titles they had.
    filters = [("caldav", ["SIM1"])]
    assert BUSY_SIM_ONLY.signature(filters) != SIM_ONLY.signature(filters)
    assert Audience(busy_only=True).signature(filters) != EVERY_ROOM.signature(filters)


def test_a_busy_only_audience_learns_nothing_from_a_title_search():
    assert BUSY_SIM_ONLY.title_may_match(["bus"])
    assert BUSY_SIM_ONLY.title_may_match([])
    assert not BUSY_SIM_ONLY.title_may_match(["busy", "OSCE"])
    assert EVERY_ROOM.title_may_match(["OSCE"])
