"""What published text may carry.

Every text a feed publishes goes through :func:`clean_text`; the texts people
type into bookings (titles, descriptions) also through
:func:`hide_contact_details`.

- No control characters: RFC 5545 forbids them in TEXT values and strict
  clients drop a whole feed over one; JSON readers have no use for them
  either. TAB and line breaks stay (CR and CRLF become LF).
- No contact details: e-mail addresses and phone numbers are replaced by
  placeholders. What counts as a phone number is stated exactly, so the
  README can promise it: any run of 7 or more digits, optionally led by
  ``+``, whose digit groups are joined by one or two spaces, dots, hyphens,
  slashes or parentheses, except where those digits are a date
  (2026-03-05, 5.3.2026, 03/05/26, 2026-2027) or a time (08:30, 8.30, 8h30,
  0800-1000, and ranges of these).
"""

import re
from datetime import date

EMAIL_PLACEHOLDER = "[e-mail hidden]"
PHONE_PLACEHOLDER = "[phone hidden]"
PHONE_MIN_DIGITS = 7

#: Control characters, and the two non-characters XML 1.0 refuses (CalDAV answers are XML).
_CONTROL = re.compile(r"\r\n?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_EMAIL = re.compile(r"(?:mailto:)?[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")

# Dates and times are found first and set aside, so their digits never join a phone number.
_DASH = r"\s*[-\u2013]\s*"  # a range: hyphen or en dash
_DATE = (
    r"(?P<ymd>[0-9]{4}(?P<s1>[-./])[0-9]{1,2}(?P=s1)[0-9]{1,2})"
    r"|(?P<dmy>[0-9]{1,2}(?P<s2>[-./])[0-9]{1,2}(?P=s2)(?:[0-9]{4}|[0-9]{2}))"
)
_CLOCK = r"(?:[01]?[0-9]|2[0-4])[:h.][0-5][0-9](?::[0-5][0-9])?"
_MILITARY = r"(?:[01][0-9]|2[0-4])[0-5][0-9]"  # 0800, only in a range: 0800-1000
_TIME = rf"{_CLOCK}|{_MILITARY}(?={_DASH}[0-9]{{4}})"
_YEARS = rf"(?:19|20)[0-9]{{2}}(?:{_DASH}|/)(?:19|20)?[0-9]{{2}}"
_DATE_OR_TIME = re.compile(
    r"(?<![0-9])(?<![0-9][-./:])"
    rf"(?:(?:{_DATE})(?:{_DASH}[0-9]{{1,4}}[-./][0-9]{{1,2}}[-./][0-9]{{2,4}})?"
    rf"|(?:{_TIME})(?:{_DASH}(?:{_CLOCK}|{_MILITARY}))?"
    rf"|{_YEARS})"
    r"(?![0-9])(?![-./][0-9])"
)
_SEPARATOR = r"[ \u00a0\u2009\u202f./()-]"
# No possessive quantifiers: Python 3.10 has none and 3.11.2 (Debian 12) mis-matches them. Greedy
# is as fast here: each group needs a digit right after its separators, so nothing is tried twice.
_PHONE = re.compile(rf"(?<![\d+])\+?\(?\d+(?:{_SEPARATOR}{{1,2}}\d+)*")
_MASK = "\x00"  # never in cleaned text


def clean_text(text: str) -> str:
    """``text`` without control characters (nor U+FFFE, U+FFFF), its line breaks as LF."""
    return _CONTROL.sub(_line_break_or_nothing, text)


def _line_break_or_nothing(match):
    return "\n" if match.group()[0] == "\r" else ""


def hide_contact_details(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by placeholders."""
    if "@" in text:
        text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    if sum(map(str.isdigit, text)) < PHONE_MIN_DIGITS:
        return text
    masked = _DATE_OR_TIME.sub(_mask_if_real_date, text)
    pieces, last = [], 0
    for match in _PHONE.finditer(masked):
        if sum(map(str.isdigit, match.group())) >= PHONE_MIN_DIGITS:
            pieces += [text[last : match.start()], PHONE_PLACEHOLDER]
            last = match.end()
    return "".join([*pieces, text[last:]]) if pieces else text


def _mask_if_real_date(match):
    """Set a date or time aside, unless its numbers cannot be a date (then it may be a phone)."""
    if match.group("ymd"):
        year, month, day = re.split(r"[-./]", match.group("ymd"))
        if not _is_date(int(year), int(month), int(day)):
            return match.group()
    elif match.group("dmy"):
        first, second, _year = (int(part) for part in re.split(r"[-./]", match.group("dmy")))
        if not (_is_date(2000, second, first) or _is_date(2000, first, second)):
            return match.group()
    return _MASK * len(match.group())


def _is_date(year, month, day):
    try:
        date(year or 1, month, day)
    except ValueError:
        return False
    return True
