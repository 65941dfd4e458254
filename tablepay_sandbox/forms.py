"""Decode Stripe's form encoding (`a[b][0][c]=v`) into nested dicts and lists.

The SDK encodes every request body (and GET query) this way. Stripe treats a
dict whose keys are all integers (`expand[0]`, `line_items[1]`) or empty
(`expand[]`) as a list, so we do the same; values stay strings and each
endpoint coerces them, as Stripe reports type errors per parameter.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid_request

_KEY_PART = re.compile(r"\[([^\]]*)\]")

Params = dict[str, Any]


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    parts = [head]
    if rest:
        parts.extend(_KEY_PART.findall("[" + rest))
    return parts


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        keys = list(node)
        indexed = [k for k in keys if k.isdigit()]
        appended = [k for k in keys if k.startswith("\0")]  # `expand[]=` appends
        if keys and len(indexed) + len(appended) == len(keys):
            return [node[k] for k in sorted(indexed, key=int)] + [node[k] for k in appended]
    return node


def decode(raw: str | bytes) -> Params:
    """Parse an application/x-www-form-urlencoded body or query string."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    root: dict[str, Any] = {}
    for counter, (key, value) in enumerate(parse_qsl(text, keep_blank_values=True)):
        parts = _split_key(key)
        node = root
        for index, part in enumerate(parts):
            if part == "":
                part = f"\0{counter}"  # unique key so repeated `x[]` accumulate
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid_request(f"Invalid value for {parts[0]}: mixed scalar and hash.", param=key)
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def as_int(
    params: Params, name: str, *, required: bool = False, minimum: int | None = None, default: int | None = None
) -> int | None:
    """Stripe's integer coercion with its error wording."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid_request(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise invalid_request(f"Invalid integer: {value}", param=name) from None
    if minimum is not None and number < minimum:
        raise invalid_request(f"This value must be greater than or equal to {minimum}.", param=name)
    return number


def as_str(params: Params, name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid_request(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(value, str):
        raise invalid_request(f"Invalid string: {value!r}", param=name)
    return value


def as_bool(params: Params, name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value in ("true", "false"):
        return bool(value == "true")
    raise invalid_request(f"Invalid boolean: {value}", param=name)


def as_metadata(params: Params, name: str = "metadata") -> dict[str, str]:
    """Metadata is a hash of strings; `metadata=` (empty) clears it, as in Stripe."""
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid_request("Invalid hash", param=name)
    if len(value) > 50:
        raise invalid_request("You can have up to 50 metadata keys.", param=name)
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid_request("Invalid hash", param=f"{name}[{key}]")
        if len(key) > 40:
            raise invalid_request("Metadata keys can have a maximum length of 40 characters.", param=f"{name}[{key}]")
        if len(item) > 500:
            raise invalid_request(
                "Metadata values can have a maximum length of 500 characters.", param=f"{name}[{key}]"
            )
    return dict(value)


def as_list(params: Params, name: str) -> list[Any]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):  # e.g. `line_items[a]=...`: not an array
        raise invalid_request("Invalid array", param=name)
    return list(value)


def reject_unknown(params: Params, allowed: set[str]) -> None:
    """Stripe refuses parameters it does not know; so do we, to catch typos early."""
    for key in params:
        if key not in allowed:
            raise invalid_request(f"Received unknown parameter: {key}", param=key)
