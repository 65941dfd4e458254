"""Response headers for the HTML the service serves: the guest's pages, and the API docs.

The guest pages are opened on a stranger's phone from a link in a QR code, so they get the
strictest policy that still renders them: nothing loads but their own inline stylesheet
(allowed by its sha256, not by 'unsafe-inline', so an injected <style> or <script> does
nothing), no framing (clickjacking), no referrer (the session id is in the URL), no caching
(a shared phone's back button must not show someone else's payment), no MIME sniffing.
The bill page needs one script besides: it too is allowed by its hash alone.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

# FastAPI's /docs and /redoc load their script and styles from its CDN with inline glue, so
# their policy only closes what does not break them: plugins, <base> tricks, framing, forms.
DOCS_POLICY = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"


def hash_source(text: str) -> str:
    """The CSP source that allows exactly this inline text (between <style> and </style>, or <script> and </script>)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _the_one(template: str, tag: str) -> str:
    """The text of the template's one static inline <tag> (a data block <script type=...> is not one)."""
    found = re.findall(rf"<{tag}>(.*?)</{tag}>", template, flags=re.DOTALL)
    if len(found) != 1 or "{{" in found[0]:
        raise ValueError(f"a guest page has exactly one <{tag}>, with no placeholders in it (its hash is fixed)")
    return str(found[0])


def guest_page_headers(template: str) -> dict[str, str]:
    """Headers for a page rendered from `template`, whose only resource is its one static inline <style>."""
    policy = (
        f"default-src 'none'; style-src {hash_source(_the_one(template, 'style'))}; img-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {**_COMMON, "Content-Security-Policy": policy}


def guest_script_page_headers(template: str) -> dict[str, str]:
    """Headers for a page with one static inline <style> and one static inline <script> (the bill page).

    The script runs because its hash is allowed, never 'unsafe-inline'; it may only fetch JSON
    from the page's own origin (connect-src 'self'). What the server fills in per request (texts,
    the token) goes into `<script type="application/json">` data blocks, which never execute, so
    every other <script> in the template must be one of those.
    """
    script = _the_one(template, "script")
    others = re.findall(r"<script\b([^>]*)>", template)
    if any(attributes.strip() != "" and 'type="application/json"' not in attributes for attributes in others):
        raise ValueError('a script page\'s other <script> tags are data blocks: type="application/json"')
    policy = (
        f"default-src 'none'; style-src {hash_source(_the_one(template, 'style'))}; "
        f"script-src {hash_source(script)}; connect-src 'self'; img-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {**_COMMON, "Content-Security-Policy": policy}


class HtmlHeaders:
    """Pure ASGI middleware: the common headers on any HTML response that did not set its own.

    Only HTML is touched and only missing headers are added, so routes with their own policy
    (the guest pages) keep it. Installed inside the webhook fast path, which never reaches it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in {**_COMMON, "Content-Security-Policy": DOCS_POLICY}.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
