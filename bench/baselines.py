"""The two reference points the addon's renderer is measured against.

``naive_icalendar``: what a first version would do, icalendar's object model
(a Calendar of Events, serialised at the end). ``string_writer``: the floor,
plain string formatting with minimal escaping and no folding, which no
conformant feed can beat by much. Both take the same FeedEvent records and
write the properties the addon's feed has for them (the bench checks this),
so that every ratio compares the same output.
"""

import icalendar

from booking_feed import FeedEvent


def naive_icalendar(events: list[FeedEvent], name: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//bench//naive//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for event in events:
        component = icalendar.Event()
        component.add("uid", event.uid)
        component.add("dtstamp", event.updated)
        component.add("created", event.created)
        component.add("last-modified", event.updated)
        component.add("sequence", event.sequence)
        component.add("dtstart", event.start)
        component.add("dtend", event.end)
        component.add("summary", event.public_title)
        if event.location:
            component.add("location", event.location)
        if event.public_description:
            component.add("description", event.public_description)
        component.add("status", event.status.upper())
        component.add("class", "PRIVATE" if event.private else "PUBLIC")
        component.add("transp", "OPAQUE" if event.busy else "TRANSPARENT")
        calendar.add_component(component)
    return calendar.to_ical()


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _moment(value) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ") if hasattr(value, "hour") else value.strftime("%Y%m%d")


def string_writer(events: list[FeedEvent], name: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//floor//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{_text(name)}"]  # fmt: skip
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_moment(event.updated)}",
            f"CREATED:{_moment(event.created)}",
            f"LAST-MODIFIED:{_moment(event.updated)}",
            f"SEQUENCE:{event.sequence}",
            f"DTSTART:{_moment(event.start)}",
            f"DTEND:{_moment(event.end)}",
            f"SUMMARY:{_text(event.public_title)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{_text(event.location)}")
        if event.public_description:
            lines.append(f"DESCRIPTION:{_text(event.public_description)}")
        lines += [
            f"STATUS:{event.status.upper()}",
            f"CLASS:{'PRIVATE' if event.private else 'PUBLIC'}",
            f"TRANSP:{'OPAQUE' if event.busy else 'TRANSPARENT'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()
