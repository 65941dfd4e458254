"""The guest's bill page (GET /bill/{token}): one static page; its script shows the bill and pays a part.

The page itself knows nothing of the bill: it is rendered from the token and the phone's language
alone (no storage), and its script reads `/bill/{token}/state` and posts `/bill/{token}/shares`
(docs/split-bill.md). So that its Content-Security-Policy can allow the script by hash, never by
'unsafe-inline', the script is the same text for every bill and every language (bill_*.js,
inlined once at import); what differs per request, the texts and the token, goes into
`<script type="application/json">` data blocks, which the browser never runs.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from fastapi.responses import HTMLResponse

from tablepay_domain.money import MINOR_UNITS
from tablepay_locale import guest_locale

from .bill_text import DEFAULT_LANGUAGE, TEXT, texts_for
from .page_headers import guest_script_page_headers

_HERE = Path(__file__).parent
# The money arithmetic (pure, compared with the domain's by the tests) and the requests, then the page.
SCRIPT_FILES = ("bill_money.js", "bill_api.js", "bill_widgets.js", "bill_page.js")
_SCRIPT = "\n".join((_HERE / name).read_text(encoding="utf-8") for name in SCRIPT_FILES)
if "</script" in _SCRIPT.lower() or "{{" in _SCRIPT:
    raise ValueError("the bill page's script must not close its <script> or hold a {{placeholder}}")
_TEMPLATE = (_HERE / "bill_page.html").read_text(encoding="utf-8").replace("{{script}}", _SCRIPT)
_HEADERS = guest_script_page_headers(_TEMPLATE)  # its CSP allows the template's <style> and <script> by hash
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_FILLED_PER_REQUEST = {"lang", "i18n", "config"}
_unknown = set(_PLACEHOLDER.findall(_TEMPLATE)) - _FILLED_PER_REQUEST - set(TEXT[DEFAULT_LANGUAGE])
if _unknown:
    raise ValueError(f"bill_page.html names texts bill_text.py does not have: {sorted(_unknown)}")


def script_json(value: object) -> str:
    """JSON to put inside a `<script type="application/json">` block, which cannot end early.

    A data block's text is not HTML-decoded, so entities would reach JSON.parse as they are;
    instead '<', '>' and '&' are written as JSON escapes (\\u003c ...): no `</script>` or `<!--`
    can appear, and JSON.parse still gives back the very same string.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render_bill_page(token: str, accept_language: str | None) -> HTMLResponse:
    """The bill page for `token`, in the language closest to the phone's Accept-Language header.

    The same page whether the token works or not (the route answers 404 for one that does not, and
    the script, finding the state 404 too, shows "This bill link no longer works"). The token is
    shown to the script as data only, whatever characters it holds.
    """
    locale = guest_locale(accept_language)
    texts = texts_for(locale)
    values = {key: html.escape(text) for key, text in texts.items()}
    values["lang"] = locale.split("_")[0]
    values["i18n"] = script_json(texts)
    values["config"] = script_json({"token": token, "locale": locale.replace("_", "-"), "digits": MINOR_UNITS})
    # One pass: a value put in is never searched for placeholders again (a token holding "{{title}}").
    page = _PLACEHOLDER.sub(lambda match: values[match.group(1)], _TEMPLATE)
    return HTMLResponse(page, headers=_HEADERS)
