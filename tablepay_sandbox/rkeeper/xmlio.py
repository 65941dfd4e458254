"""XML in and out: the request envelope, the result root, and RK7's value formats.

Requests are parsed with defusedxml with DTDs forbidden, so entity tricks
("billion laughs", external entities) are refused before anything expands.
Formats [V]: money in hundredths, quantity in thousandths, booleans 1/0,
datetimes `YYYY-MM-DDTHH:MM:SS` in local time, GUIDs uppercase in braces.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

import defusedxml
import defusedxml.ElementTree as SafeET

from .errors import E_PARSE, PARSE_ERROR, RKError, bad_params
from .options import RKeeperOptions

Element = ET.Element
_GUID = re.compile(r"^\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}?$")


@dataclass(frozen=True)
class Query:
    """The commands of one request; `batch` is the `<RK7Command>` form (results wrapped in CommandResult)."""

    commands: list[Element]
    batch: bool


def parse_error(text: str) -> RKError:
    return RKError(PARSE_ERROR, text, E_PARSE)


def parse_query(body: bytes) -> Query:
    if not body.strip():
        raise parse_error("Empty input XML")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise parse_error("DTD is not allowed in input XML") from None
    except (defusedxml.DefusedXmlException, ET.ParseError) as exc:
        raise parse_error(f"Invalid input XML: {exc}") from None
    if root.tag != "RK7Query":
        raise parse_error(f"Root element must be RK7Query, not {root.tag}")
    single = root.findall("RK7CMD")
    batch = root.findall("RK7Command")
    if single:
        return Query(single[:1], batch=False)  # the cash server runs the first RK7CMD only [I]
    if batch:
        return Query(batch, batch=True)
    raise bad_params("No RK7CMD in RK7Query")


# -- formats ----------------------------------------------------------------
def fmt_dt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def new_guid() -> str:
    return "{" + str(uuid.uuid4()).upper() + "}"


def stable_guid(name: str) -> str:
    """Reference items get the same GUIDString on every fresh start."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"tablepay-rk7:{name}")).upper() + "}"


def norm_guid(value: str, what: str = "guid") -> str:
    match = _GUID.match(value.strip())
    if not match:
        raise bad_params(f"Invalid {what}: {value}")
    return "{" + match.group(1).upper() + "}"


def int_attr(el: Element, name: str, *, required: bool = False, default: int | None = None) -> int | None:
    raw = el.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise bad_params(f"Attribute {name} of {el.tag} is required")
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise bad_params(f"Attribute {name} of {el.tag} must be an integer, not {raw!r}") from None


def flag(value: bool) -> str:
    return "1" if value else "0"


def sub(parent: Element, tag: str, **attrs: object) -> Element:
    """A child element; None attributes are left out, the rest written as strings."""
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})


def element(tag: str, **attrs: object) -> Element:
    return ET.Element(tag, {k: str(v) for k, v in attrs.items() if v is not None})


# -- results ----------------------------------------------------------------
def result_root(
    options: RKeeperOptions,
    *,
    status: str,
    cmd: str,
    error_text: str,
    number: int | None,
    arrival: datetime,
    now: datetime,
    work_ms: int,
    processed: int,
) -> Element:
    """The RK7QueryResult root, attributes in the cash server's order."""
    attrs: dict[str, object] = {
        "ServerVersion": options.server_version,
        "XmlVersion": options.xml_version,
        "NetName": options.net_name,
        "Status": status,
        "CMD": cmd,
        "ErrorText": error_text,
        "DateTime": fmt_dt(now),
        "WorkTime": work_ms,
        "Processed": processed,
        "ArrivalDateTime": fmt_dt(arrival),
    }
    if number is not None:
        attrs["RK7ErrorN"] = number
    return element("RK7QueryResult", **attrs)


def command_result(
    *, cmd: str, status: str, error_text: str, number: int | None, now: datetime, work_ms: int
) -> Element:
    attrs: dict[str, object] = {
        "CMD": cmd,
        "Status": status,
        "ErrorText": error_text,
        "DateTime": fmt_dt(now),
        "WorkTime": work_ms,
    }
    if number is not None:
        attrs["RK7ErrorN"] = number
    return element("CommandResult", **attrs)


def to_bytes(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")
