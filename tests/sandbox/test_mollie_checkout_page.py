"""The Mollie fake's hosted checkout: what the guest's phone shows, and where each button leads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import in_browser, require_chromium, screenshot_dir

from .conftest import Sandbox
from .mollie_support import create, mollie_api

RETURN = "https://tablepay.example/return/42"
CANCEL = "https://tablepay.example/cancel/42"


def _choose(sandbox: Sandbox, payment_id: str, status: str) -> httpx.Response:
    return httpx.post(f"{sandbox.url}/mollie/checkout/{payment_id}", data={"status": status}, timeout=10)


def test_page_shows_the_amount_and_the_choices(sandbox: Sandbox) -> None:
    payment = create(sandbox, description="Table 7 <bill 42>")
    page = httpx.get(payment["_links"]["checkout"]["href"], timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "€10.00" in page.text and "Table 7 &lt;bill 42&gt;" in page.text
    for status in ("paid", "failed", "canceled", "expired", "open"):
        assert f"value='{status}'" in page.text
    assert httpx.get(f"{sandbox.url}/mollie/checkout/tr_nope", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("status", "cancel_url", "target", "stamp"),
    [
        ("paid", None, RETURN, "paidAt"),
        ("failed", None, RETURN, "failedAt"),
        ("expired", None, RETURN, "expiredAt"),
        ("canceled", CANCEL, CANCEL, "canceledAt"),
        ("canceled", None, RETURN, "canceledAt"),
        ("open", CANCEL, RETURN, None),
    ],
)
def test_each_choice_sets_the_status_and_goes_back_without_it(
    sandbox: Sandbox, status: str, cancel_url: str | None, target: str, stamp: str | None
) -> None:
    extra: dict[str, Any] = {"cancelUrl": cancel_url} if cancel_url else {}
    payment_id = create(sandbox, redirectUrl=RETURN, **extra)["id"]
    answer = _choose(sandbox, payment_id, status)
    assert answer.status_code == 303 and answer.headers["location"] == target  # no status in the query
    after = mollie_api(sandbox, "GET", f"/v2/payments/{payment_id}").json()
    assert after["status"] == status
    if stamp:
        assert after[stamp] and "checkout" not in after["_links"]
    second = _choose(sandbox, payment_id, "paid")  # a final payment stays as it is
    if status != "open":
        assert second.status_code == 200 and f"This payment is {status}." in second.text


@pytest.mark.browser
def test_on_a_phone(sandbox: Sandbox, tmp_path: Path) -> None:
    chromium = require_chromium()
    payment = create(sandbox, redirectUrl=f"{sandbox.url}/healthz")
    shots = screenshot_dir(tmp_path)

    def work(page: Any) -> dict[str, Any]:
        page.goto(payment["_links"]["checkout"]["href"])
        page.screenshot(path=str(shots / "mollie-checkout.png"), full_page=True)
        boxes = [page.locator(f"button[value='{s}']").bounding_box() for s in ("paid", "failed", "open")]
        names = page.get_by_role("button").all_inner_texts()
        width = page.evaluate("document.documentElement.scrollWidth")
        page.get_by_role("button", name="Paid").tap()
        page.wait_for_url(f"{sandbox.url}/healthz")
        return {"boxes": boxes, "names": names, "width": width}

    seen = in_browser(work, chromium).result(60)
    assert seen["width"] <= 390  # no sideways scrolling on the phone
    assert all(box["height"] >= 48 and box["width"] >= 300 for box in seen["boxes"])  # large touch targets
    assert [n.split("\n")[0] for n in seen["names"]] == ["Paid", "Failed", "Canceled", "Expired", "Open"]
    assert mollie_api(sandbox, "GET", f"/v2/payments/{payment['id']}").json()["status"] == "paid"
