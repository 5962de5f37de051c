"""Writing CalDAV answers: multistatus bodies, property values and error bodies.

A resource is an href and its properties as plain values; which of them a
client gets (RFC 4918 ``prop``, ``allprop``, ``propname``) is decided here,
once for every kind of resource: asked properties the resource lacks come
back in a 404 propstat, as the RFC wants. XML is built by ``lxml``, so text
is always escaped and namespaces always declared.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import quote

from lxml import etree

from .dav_request import (
    APPLE_ICAL,
    CALDAV,
    CALENDARSERVER,
    DAV,
    READ_METHODS,
    WRITE_PRIVILEGES,
    DavError,
    PropRequest,
    clark,
)

XML_CONTENT_TYPE = "application/xml; charset=utf-8"
NAMESPACES = {"d": DAV, "c": CALDAV, "cs": CALENDARSERVER, "ical": APPLE_ICAL}
#: Where the human-readable reason of an error body goes (RFC 4918 lets DAV:error hold any element).
MESSAGE = clark("urn:x-external-calendar", "message")


@dataclass(frozen=True)
class Node:
    """An XML element as plain data: a name, attributes, and text or child nodes."""

    name: str
    children: "tuple[Node, ...] | str" = ()
    attributes: dict = field(default_factory=dict)


def href(path: str) -> Node:
    return Node(clark(DAV, "href"), path)


def href_value(path: str) -> tuple[Node]:
    """The value of a property that is one href (current-user-principal, calendar-home-set)."""
    return (href(path),)


def empty(namespace: str, *names: str) -> tuple[Node, ...]:
    """Empty elements: a resourcetype, a privilege, a report."""
    return tuple(Node(clark(namespace, name)) for name in names)


def status_line(code: int) -> str:
    return f"HTTP/1.1 {code} {HTTPStatus(code).phrase}"


@dataclass(frozen=True)
class Resource:
    """An href with its properties: name -> text or a tuple of Nodes; a property it lacks is left out
    (see :func:`present`)."""

    href: str
    properties: dict


def present(properties: dict) -> dict:
    """``properties`` without those whose value is None: those the resource lacks."""
    return {name: value for name, value in properties.items() if value is not None}


def _append(parent, node: Node):
    element = etree.SubElement(parent, node.name, node.attributes)
    if isinstance(node.children, str):
        element.text = node.children
    else:
        for child in node.children:
            _append(element, child)


def _propstat(parent, code, names):
    """A propstat of ``code`` whose prop holds empty elements named ``names`` (filled by the caller)."""
    propstat = etree.SubElement(parent, clark(DAV, "propstat"))
    prop = etree.SubElement(propstat, clark(DAV, "prop"))
    for name in names:
        etree.SubElement(prop, name)
    etree.SubElement(propstat, clark(DAV, "status")).text = status_line(code)
    return prop


def _response_template(names: tuple[str, ...], request: PropRequest):
    """The response of a resource with properties ``names`` to ``request``, values left empty, and
    the names it gives values to (RFC 4918: asked properties it lacks go in a 404 propstat)."""
    if request.kind == "propname":
        found, missing = names, ()
    else:
        found = tuple(name for name in names if request.wants(name))
        missing = tuple(name for name in request.names if name not in names)
    response = etree.Element(clark(DAV, "response"), nsmap=NAMESPACES)
    etree.SubElement(response, clark(DAV, "href"))
    if found or not missing:
        _propstat(response, 200, found)
    if missing:
        _propstat(response, 404, missing)
    return response, found if request.kind != "propname" else ()


def multistatus(resources: Iterable[Resource], request: PropRequest, *, gone=(), sync_token=None) -> bytes:
    """A 207 body: the ``request``ed properties of each resource, then ``gone`` hrefs as 404
    (sync-collection) and the new ``sync_token`` if given.

    Resources with the same properties share one response template, copied
    and filled: a calendar's objects all do, and there may be thousands.
    """
    root = etree.Element(clark(DAV, "multistatus"), nsmap=NAMESPACES)
    templates = {}
    for resource in resources:
        names = tuple(resource.properties)
        if names not in templates:
            templates[names] = _response_template(names, request)
        template, found = templates[names]
        response = template.__copy__()  # lxml copies the whole element
        response[0].text = resource.href
        for element, name in zip(response[1][0] if found else (), found, strict=True):
            value = resource.properties[name]
            if isinstance(value, str):
                element.text = value
            else:
                for node in value:
                    _append(element, node)
        root.append(response)
    for path in gone:
        response = etree.SubElement(root, clark(DAV, "response"))
        etree.SubElement(response, clark(DAV, "href")).text = path
        etree.SubElement(response, clark(DAV, "status")).text = status_line(404)
    if sync_token is not None:
        etree.SubElement(root, clark(DAV, "sync-token")).text = sync_token
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def error_body(error: DavError, extra: tuple[Node, ...] = ()) -> bytes:
    """``<d:error>`` with the failed precondition (and ``extra`` inside it), and the reason in words."""
    root = etree.Element(clark(DAV, "error"), nsmap={**NAMESPACES, "x": MESSAGE[1 : MESSAGE.index("}")]})
    if error.condition:
        _append(root, Node(error.condition, extra))
    etree.SubElement(root, MESSAGE).text = str(error)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def need_privileges(method: str, path: str) -> tuple[Node, ...]:
    """What ``need-privileges`` holds (RFC 3744, 7.1.1): the resource and the privilege a write needs."""
    privilege = Node(clark(DAV, "privilege"), empty(DAV, WRITE_PRIVILEGES[method]))
    # The path as sent, encoded: decoded, it may hold characters XML cannot (NUL).
    return (Node(clark(DAV, "resource"), (href(quote(path)), privilege)),)


# -- what this read-only server says of itself ------------------------------------------------

DAV_HEADERS = (("DAV", "1, 3, calendar-access"), ("Allow", ", ".join(READ_METHODS)))
#: A fixed ASCII realm: HTTP headers are Latin-1, and the calendar's name is not for strangers.
CHALLENGE = (("WWW-Authenticate", 'Basic realm="calendar", charset="UTF-8"'),)
#: Objects are revalidated at each use: their ETag says whether they changed.
OBJECT_HEADERS = (("Cache-Control", "private, no-cache"),)
OBJECT_CONTENT_TYPE = "text/calendar; charset=utf-8; component=vevent"
NEED_PRIVILEGES = clark(DAV, "need-privileges")
RESOURCETYPE = clark(DAV, "resourcetype")
GETETAG = clark(DAV, "getetag")
GETCONTENTTYPE = clark(DAV, "getcontenttype")
GETCONTENTLENGTH = clark(DAV, "getcontentlength")
GETLASTMODIFIED = clark(DAV, "getlastmodified")
CALENDAR_TIMEZONE = clark(CALDAV, "calendar-timezone")
DISPLAYNAME = clark(DAV, "displayname")
GETCTAG = clark(CALENDARSERVER, "getctag")
CURRENT_USER_PRINCIPAL = clark(DAV, "current-user-principal")
READ_ONLY = tuple(
    Node(clark(DAV, "privilege"), (node,)) for node in empty(DAV, "read", "read-current-user-privilege-set")
)
EVENTS_ONLY = (Node(clark(CALDAV, "comp"), (), {"name": "VEVENT"}),)
#: supported-report-set: ``<supported-report><report><name/></report></supported-report>`` each.
REPORTS = tuple(
    Node(clark(DAV, "supported-report"), (Node(clark(DAV, "report"), (Node(name),)),))
    for name in (
        clark(CALDAV, "calendar-query"),
        clark(CALDAV, "calendar-multiget"),
        clark(DAV, "sync-collection"),
        clark(CALDAV, "free-busy-query"),
    )
)
