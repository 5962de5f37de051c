"""Writing CalDAV answers: multistatus bodies, property values and error bodies.

A resource is an href and its properties as plain values; which of them a
client gets (RFC 4918 ``prop``, ``allprop``, ``propname``) is decided here,
once for every kind of resource: asked properties the resource lacks come
back in a 404 propstat, as the RFC wants. XML is built by ``lxml``, so text
is always escaped and namespaces always declared.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus

from lxml import etree

from .dav_request import APPLE_ICAL, CALDAV, CALENDARSERVER, DAV, DavError, PropRequest, clark

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


def hrefs(path: str) -> tuple[Node]:
    """A property whose value is one href (current-user-principal, calendar-home-set)."""
    return (href(path),)


def empty(namespace: str, *names: str) -> tuple[Node, ...]:
    """Empty elements: a resourcetype, a privilege, a report."""
    return tuple(Node(clark(namespace, name)) for name in names)


def wrapped(outer: tuple[str, str], inner: tuple[str, str], items: Iterable[Node]) -> tuple[Node, ...]:
    """``<outer><inner>item</inner></outer>`` per item (supported-report-set, privilege sets)."""
    return tuple(Node(clark(*outer), (Node(clark(*inner), (item,)),)) for item in items)


def http_date(moment: datetime) -> str:
    """``getlastmodified``'s form (RFC 1123) of an aware or naive-UTC datetime."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return format_datetime(aware, usegmt=True)


def status_line(code: int) -> str:
    return f"HTTP/1.1 {code} {HTTPStatus(code).phrase}"


@dataclass(frozen=True)
class Resource:
    """An href with its properties (name -> text, a Node tuple, or None for "not here")."""

    href: str
    properties: dict


def _append(parent, node: Node):
    element = etree.SubElement(parent, node.name, node.attributes)
    if isinstance(node.children, str):
        element.text = node.children
    else:
        for child in node.children:
            _append(element, child)


def _propstat(parent, code, properties, *, names_only=False):
    propstat = etree.SubElement(parent, clark(DAV, "propstat"))
    prop = etree.SubElement(propstat, clark(DAV, "prop"))
    for name, value in properties:
        if names_only or value is None:
            etree.SubElement(prop, name)
        else:
            _append(prop, Node(name, value))
    etree.SubElement(propstat, clark(DAV, "status")).text = status_line(code)


def multistatus(resources: Iterable[Resource], request: PropRequest, *, gone=(), sync_token=None) -> bytes:
    """A 207 body: the ``request``ed properties of each resource, then ``gone`` hrefs as 404
    (sync-collection) and the new ``sync_token`` if given."""
    root = etree.Element(clark(DAV, "multistatus"), nsmap=NAMESPACES)
    for resource in resources:
        response = etree.SubElement(root, clark(DAV, "response"))
        etree.SubElement(response, clark(DAV, "href")).text = resource.href
        available = {name: value for name, value in resource.properties.items() if value is not None}
        if request.kind == "propname":
            _propstat(response, 200, [(name, None) for name in available], names_only=True)
            continue
        if request.kind == "prop":
            wanted = request.names
        else:
            wanted = [name for name in available if request.wants(name)]
            wanted += [name for name in request.names if name not in wanted]
        found = [(name, available[name]) for name in wanted if name in available]
        missing = [(name, None) for name in wanted if name not in available]
        if found or not missing:
            _propstat(response, 200, found)
        if missing:
            _propstat(response, 404, missing)
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
