"""The HTML the service serves carries its protective headers, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from sync_service.api.page_headers import guest_script_page_headers
from tests.support.harness import Harness, make_order

SAME_FOR_EVERY_PAGE = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in filter(None, map(str.strip, policy.split(";")))}


def guest_pages(harness: Harness) -> dict[str, httpx.Response]:
    """Each kind of page a guest can land on: paid, still waiting, left the checkout, unknown."""
    paid = harness.checkout(make_order()).json()
    harness.complete(paid, "succeeded")
    harness.wait_status(paid["payment_id"], "paid")
    waiting = harness.checkout(make_order()).json()
    with httpx.Client(base_url=harness.service.url, timeout=10) as guest:
        return {
            "success (paid)": guest.get("/pay/success", params={"session_id": harness.session_id(paid)}),
            "success (waiting, refreshes)": guest.get(
                "/pay/success", params={"session_id": harness.session_id(waiting)}
            ),
            "cancel": guest.get("/pay/cancel", params={"payment_id": waiting["payment_id"]}),
            "success (not found)": guest.get("/pay/success", params={"session_id": "cs_test_nobody"}),
            "cancel (not found)": guest.get("/pay/cancel"),
        }


def test_every_guest_page_sends_the_strict_headers(harness: Harness):
    pages = guest_pages(harness)
    assert (
        "Thank you!" in pages["success (paid)"].text
        and 'http-equiv="refresh"' in pages["success (waiting, refreshes)"].text
        and pages["cancel (not found)"].status_code == 404
    )
    for name, response in pages.items():
        assert response.headers["content-type"].startswith("text/html"), name
        assert {key: response.headers.get(key) for key in SAME_FOR_EVERY_PAGE} == SAME_FOR_EVERY_PAGE, name
        policy = directives(response.headers["content-security-policy"])
        assert policy["default-src"] == "'none'" and policy["img-src"] == "'none'", name
        assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'", name
        assert policy["form-action"] == "'none'", name
        assert "unsafe-inline" not in response.headers["content-security-policy"], name
        # the one source allowed for styles is the hash of the page's own stylesheet
        (css,) = re.findall(r"<style>(.*?)</style>", response.text, flags=re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert policy["style-src"] == f"'sha256-{digest}'", name
        assert "<script" not in response.text, name


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_pages_cannot_be_framed_or_cached(harness: Harness, path: str):
    response = httpx.get(harness.service.url + path, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert {key: response.headers.get(key) for key in SAME_FOR_EVERY_PAGE} == SAME_FOR_EVERY_PAGE
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"


def test_json_answers_are_left_alone(harness: Harness):
    response = httpx.get(harness.service.url + "/healthz", timeout=10)
    assert response.status_code == 200 and "content-security-policy" not in response.headers


SCRIPT_PAGE = '<style>p{}</style><script type="application/json" id="t">{{texts}}</script><script>go()</script>'


def test_a_script_page_allows_its_one_script_and_style_by_hash_and_fetches_only_its_own_origin():
    policy = directives(guest_script_page_headers(SCRIPT_PAGE)["Content-Security-Policy"])
    digest = base64.b64encode(hashlib.sha256(b"go()").digest()).decode()
    assert policy["script-src"] == f"'sha256-{digest}'" and policy["connect-src"] == "'self'"
    assert policy["default-src"] == "'none'" and policy["form-action"] == "'none'"


@pytest.mark.parametrize(
    "template",
    [
        SCRIPT_PAGE.replace("go()", "go({{token}})"),  # a filled-in script has no fixed hash
        SCRIPT_PAGE + "<script>more()</script>",
        SCRIPT_PAGE + '<script src="https://cdn.example/x.js"></script>',
        SCRIPT_PAGE.replace('type="application/json"', 'type="module"'),  # a module runs
    ],
)
def test_a_script_page_with_anything_else_that_could_run_is_refused(template: str):
    with pytest.raises(ValueError):
        guest_script_page_headers(template)
