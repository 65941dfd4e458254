"""The guest's bill page: its headers, what a hostile token can do (nothing), its texts, and the page on a phone.

The browser tests serve the page from `render_bill_page` on 127.0.0.1 beside a fake of the bill API
(tests/support/bill_fake.py: a state to show, the POSTs it received, the answers it gives in turn), so they check
what the page sends and shows, not the service's arithmetic.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import re
import string
import urllib.parse
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import sync_service.api
from sync_service.api.bill_page import render_bill_page
from sync_service.api.bill_text import TEXT
from tablepay_domain.bill import Bill, BillLine, SplitMode, quote
from tablepay_domain.money import Money, charge_step
from tablepay_domain.tips import round_up_amount
from tablepay_locale import LOCALES
from tests.support.bill_fake import PHONE_PROBLEMS, STATE, FakeBill, created, snap
from tests.support.browser import csp_violations, in_browser, require_chromium, screenshot_dir
from tests.support.live_server import LiveServer

HERE = Path(sync_service.api.__file__).parent
SCRIPT = "\n".join(
    (HERE / name).read_text(encoding="utf-8")
    for name in ("bill_money.js", "bill_api.js", "bill_widgets.js", "bill_page.js")
)
BROWSER = 90  # seconds: a cold Chromium start on a busy CI machine, plus the page's steps
HOSTILE_TOKENS = [
    "</script><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'+alert(1)+'",
    "{{title}}{{i18n}}{{config}}",
    "<!--<script>",
    "\u2028\u2029&quot;&lt;",
]


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in filter(None, map(str.strip, policy.split(";")))}


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class Elements(HTMLParser):
    """Every start tag, and each <script> with its attributes and text, as a browser's parser splits them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: tuple[dict[str, str | None], list[str]] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = (dict(attrs), [])

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None


def test_the_page_allows_its_own_style_and_script_by_hash_and_nothing_else():
    response = render_bill_page("tok_1", None)
    page = response.body.decode()
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store" and response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    header = response.headers["content-security-policy"]
    policy = directives(header)
    (css,) = re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    (script,) = [text for attrs, text in Elements(page).scripts if not attrs]
    assert script == SCRIPT
    assert policy == {
        "default-src": "'none'",
        "style-src": sha256_source(css),
        "script-src": sha256_source(SCRIPT),
        "connect-src": "'self'",
        "img-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


@pytest.mark.parametrize("token", HOSTILE_TOKENS)
def test_a_hostile_token_stays_data(token: str):
    response = render_bill_page(token, "en")
    elements = Elements(response.body.decode())
    scripts = elements.scripts
    assert [attrs.get("type") for attrs, _ in scripts] == ["application/json", "application/json", None]
    assert scripts[2][1] == SCRIPT  # the one script that runs is the static one
    assert json.loads(scripts[1][1])["token"] == token  # and reads the token back exactly
    assert json.loads(scripts[0][1]) == TEXT["en"]  # the texts were not touched by it
    assert [tag for tag, _ in elements.tags if tag in {"img", "iframe", "object", "embed", "base"}] == []
    assert not any(name.startswith("on") for _, attrs in elements.tags for name in attrs)
    # the policy, and so the script's hash, is the same for every token
    assert (
        response.headers["content-security-policy"]
        == render_bill_page("tok_1", "en").headers["content-security-policy"]
    )


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_text_with_the_same_placeholders():
    english = TEXT["en"]
    for language, texts in TEXT.items():
        assert set(texts) == set(english), language
        for key, text in texts.items():
            assert text.strip() and _fields(text) == _fields(english[key]), (language, key)
    assert {locale.split("_")[0] for locale in LOCALES} <= set(TEXT)  # every language the kiosk offers


@pytest.mark.parametrize(
    ("accept_language", "lang", "title"),
    [
        ("de-AT,de;q=0.9,en;q=0.5", "de", "Ihre Rechnung"),
        ("fr-CH, fr;q=0.9", "fr", "Votre addition"),
        ("pt-BR", "en", "Your bill"),
        (None, "en", "Your bill"),
    ],
)
def test_the_phone_s_language_picks_the_texts(accept_language: str | None, lang: str, title: str):
    page = render_bill_page("tok_1", accept_language).body.decode()
    assert f'<html lang="{lang}">' in page and f"<h1>{title}</h1>" in page
    (i18n,) = [text for attrs, text in Elements(page).scripts if attrs.get("id") == "i18n"]
    assert json.loads(i18n) == TEXT[lang]


# --- in the browser -----------------------------------------------------------------------------


@pytest.fixture
def bill() -> Iterator[FakeBill]:
    fake = FakeBill()
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def chromium() -> str:
    return require_chromium()


@pytest.mark.browser
def test_a_guest_pays_their_dishes_with_a_tip_and_a_round_up(bill: FakeBill, chromium: str, tmp_path: Path):
    shots = screenshot_dir(tmp_path)
    bill.answers = [created(bill, "pay_1")]

    def work(page: Any) -> dict[str, Any]:
        from playwright.sync_api import expect

        page.goto(f"{bill.url}/bill/tok_1")
        expect(page.locator("#total")).to_have_text("€96.00")
        expect(page.locator("#guests")).to_have_text("1 guest is paying")
        expect(page.locator("#announce")).to_contain_text("€42.10 of €96.00 paid")
        problems = page.evaluate(PHONE_PROBLEMS)
        snap(page, shots / "bill-page-choose.png")
        page.get_by_role("radio", name=re.compile("^My dishes")).check()
        for dish in ("Tiramisu", "Tiramisu", "Pizza Margherita"):
            page.get_by_role("button", name=f"One more: {dish}").click()
        expect(page.get_by_role("button", name="One more: Pizza Margherita")).to_be_disabled()  # 1 free
        expect(page.get_by_role("button", name="One more: Spritz")).to_be_enabled()
        page.locator("label", has_text="15 %").click()  # 15 % of €25.00: €3.75
        page.get_by_role("checkbox", name=re.compile("Round up for Kinderhilfe Nord")).check()  # €28.75 -> €29.00
        expect(page.locator("#pay")).to_have_text("Pay €29.00")
        expect(page.locator("#mine-donation")).to_have_text("€0.25")
        problems += page.evaluate(PHONE_PROBLEMS)
        snap(page, shots / "bill-page-items.png", at="#dishes")
        page.locator("#pay").click()
        page.wait_for_url("**/checkout/pay_1")
        return {"problems": problems, "csp": csp_violations(page)}

    seen = in_browser(work, chromium).result(BROWSER)
    assert seen["problems"] == [] and seen["csp"] == []
    (body,) = bill.posts
    assert body == {
        "mode": "items",
        "items": [{"sku": "PIZ", "quantity": 1}, {"sku": "TIR", "quantity": 2}],
        "tip_amount": 375,
        "donation_amount": 25,
        "version": 2,
    }
    assert all(type(body[key]) is int for key in ("tip_amount", "donation_amount", "version"))


@pytest.mark.browser
def test_a_changed_bill_keeps_the_guest_s_equal_share_and_one_tap_sends_once(
    bill: FakeBill, chromium: str, tmp_path: Path
):
    shots = screenshot_dir(tmp_path)
    fresh = {**copy.deepcopy(STATE), "version": 3, "split_ways": 4, "equal_shares_left": 2, "remaining": 2095,
             "paid": 6305, "guests_paying": 2}  # fmt: skip
    changed = "Another guest just paid a share. Please check your part."
    bill.answers = [
        (409, {"error": {"code": "bill_changed", "message": changed}, "state": fresh}),
        created(bill, "pay_2"),
    ]

    def work(page: Any) -> dict[str, Any]:
        from playwright.sync_api import expect

        page.goto(f"{bill.url}/bill/tok_1")
        page.get_by_role("radio", name=re.compile("^An equal share")).check()
        for _ in range(2):
            page.get_by_role("button", name="One more: Split between").click()
        expect(page.locator("#ways-row output")).to_have_text("4")
        page.locator("label", has_text="No tip").click()
        expect(page.locator("#pay")).to_have_text("Pay €10.47")  # €41.90 / 4, the cents left to the last share
        problems = page.evaluate(PHONE_PROBLEMS)
        snap(page, shots / "bill-page-equal.png", at="#choose")
        bill.gate.clear()
        page.locator("#pay").click()
        expect(page.locator("#pay")).to_be_disabled()
        expect(page.locator("#pay")).to_have_text("Opening the payment…")
        page.evaluate("document.getElementById('pay').click()")  # a second tap while the first is on its way
        bill.state = copy.deepcopy(fresh)
        bill.gate.set()
        expect(page.locator("#pay-error")).to_have_text(changed)
        expect(page.locator("#announce")).to_contain_text(changed)
        expect(page.get_by_role("radio", name=re.compile("^An equal share"))).to_be_checked()
        expect(page.locator("#ways-fixed")).to_have_text("The bill is split 4 ways; 2 shares are left.")
        expect(page.locator("#pay")).to_have_text("Pay €10.47")  # €20.95 / 2
        expect(page.locator("#total")).to_have_text("€96.00")
        expect(page.locator("#paid")).to_have_text("€63.05")
        snap(page, shots / "bill-page-changed.png", at="#choose")
        page.locator("#pay").click()
        page.wait_for_url("**/checkout/pay_2")
        return {"problems": problems, "csp": csp_violations(page)}

    seen = in_browser(work, chromium).result(BROWSER)
    assert seen["problems"] == [] and seen["csp"] == []
    first, second = bill.posts  # two taps on the first try, one request
    wanted = {"mode": "equal", "shares": 4, "pay_shares": 1, "tip_amount": 0, "donation_amount": 0}
    assert first == {**wanted, "version": 2} and second == {**wanted, "version": 3}


@pytest.mark.browser
def test_an_amount_is_parsed_exactly_and_each_refusal_is_shown(bill: FakeBill, chromium: str):
    too_small = "A payment must be at least €15.00."
    bill.answers = [(422, {"error": {"code": "invalid_share", "message": too_small}}), (429, {}), created(bill, "p3")]

    def work(page: Any) -> dict[str, Any]:
        from playwright.sync_api import expect

        page.goto(f"{bill.url}/bill/tok_1")
        page.get_by_role("radio", name=re.compile("^An amount")).check()
        field = page.get_by_label("Amount to pay")
        expect(page.locator("#amount-hint")).to_have_text("Between €0.50 and €41.90")
        field.fill("12.345")
        expect(page.locator("#amount-error")).to_have_text("Enter an amount such as 12.50.")
        expect(page.locator("#pay")).to_be_disabled()
        field.fill("99")
        expect(page.locator("#amount-error")).to_have_text("Only €41.90 is left to pay.")
        field.fill("12,30")
        page.locator("label", has_text="15 %").click()  # 15 % of €12.30 is €1.845: half up, €1.85
        expect(page.locator("#pay")).to_have_text("Pay €14.15")
        page.locator("#pay").click()
        expect(page.locator("#amount-error")).to_have_text(too_small)  # next to the control it is about
        expect(field).to_have_attribute("aria-invalid", "true")
        page.locator("#pay").click()
        expect(page.locator("#pay-error")).to_have_text("Too many tries, wait a moment.")
        page.route("**/shares", lambda route: route.abort())
        page.locator("#pay").click()
        expect(page.locator("#pay-error")).to_have_text("No connection. Check your network and tap Pay again.")
        page.unroute("**/shares")
        page.locator("#pay").click()
        page.wait_for_url("**/checkout/p3")
        return {"csp": csp_violations(page)}

    seen = in_browser(work, chromium).result(BROWSER)
    assert seen["csp"] == []
    wanted = {"mode": "amount", "amount": 1230, "tip_amount": 185, "donation_amount": 0, "version": 2}
    assert bill.posts == [wanted, wanted, wanted]  # the aborted try never reached the service


@pytest.mark.browser
def test_back_from_the_checkout_the_guest_sees_the_receipt_and_what_follows(
    bill: FakeBill, chromium: str, tmp_path: Path
):
    shots = screenshot_dir(tmp_path)
    token = "tok\"'<b>&{{title}}"
    bill.receipt = {"share_id": "pay_1", "status": "paid", "amount": 4210, "tip_amount": 400,
                    "donation_amount": 0, "amount_total": 4610}  # fmt: skip

    def work(page: Any) -> dict[str, Any]:
        from playwright.sync_api import expect

        page.goto(f"{bill.url}/bill/{urllib.parse.quote(token, safe='')}?share=pay_1")
        receipt = page.locator("#receipt")
        expect(receipt).to_have_text("You paid €46.10 (incl. €4.00 tip). Thank you!")
        snap(page, shots / "bill-page-paid.png")
        problems = page.evaluate(PHONE_PROBLEMS)
        assert bill.state is not None
        bill.state = {**bill.state, "guests_paying": 2}  # the next poll tells
        expect(page.locator("#announce")).to_contain_text("2 guests are paying", timeout=10_000)
        bill.receipt = {**bill.receipt, "status": "open"}
        page.reload()
        expect(receipt).to_have_text("Your payment is being confirmed.")
        for status, words in (
            ("settled", "The bill is paid. Thank you!"),
            ("stopped", "Your waiter has taken over the payment."),
        ):
            bill.state = {**bill.state, "status": status}
            page.reload()
            # Waited for: the notice is written once the page's first read of the state comes back.
            expect(page.locator("#notice")).to_have_text(words)
            expect(page.locator("#choose")).to_be_hidden()
        bill.state = None
        page.reload()
        expect(page.locator("#notice")).to_have_text("This bill link no longer works. Ask your waiter.")
        bill.state = copy.deepcopy(STATE)
        german = {"accept-language": "de-DE,de;q=0.9"}
        page.route("**/bill/*", lambda route: route.continue_(headers={**route.request.headers, **german}))
        page.reload()
        expect(page.locator("#total")).to_have_text(re.compile(r"^96,00\s€$"))
        expect(page.locator("#guests")).to_have_text("1 Gast bezahlt gerade")
        return {"problems": problems, "csp": csp_violations(page)}

    seen = in_browser(work, chromium).result(BROWSER)
    assert seen["problems"] == [] and seen["csp"] == []
    assert set(bill.tokens) == {token}  # the token went back to the service exactly, as data


def _money_cases(currency: str, rng: random.Random) -> list[dict[str, Any]]:
    """Random amounts with the domain's answers: the tip, the round-up, an equal share, the amount as typed."""
    step = charge_step(currency)
    cases = []
    for _ in range(200):
        amount = rng.randrange(0, 10**7) // step * step
        pct = rng.choice([0, 1, 5, 10, 12, 15, 18, 20, 25, 33])
        left = rng.randrange(2, 21)
        remaining = rng.randrange(left * step * 10, 10**6) // step * step
        bill = Bill(currency, (BillLine("X", "x", 1, remaining),))
        typed = Money(amount, currency).to_decimal_string()
        typed = rng.choice([typed, typed.replace(".", ","), f" {typed} "])
        cases.append(
            {
                "args": [amount, pct, remaining, left, rng.randrange(1, left + 1), typed],
                "want": [
                    Money(amount, currency).percent(pct).amount,
                    round_up_amount(Money(amount, currency)).amount,
                    None,  # the equal share, below
                    amount,
                    Money(amount, currency).to_decimal_string(),
                ],
            }
        )
        share = quote(bill, SplitMode.EQUAL, ways=left, pay_shares=cases[-1]["args"][4])
        cases[-1]["want"][2] = share.amount
    return cases


NOT_AMOUNTS = {
    "EUR": ["", "abc", "1,2,3", "-5", "1e3", "12.345", "."],
    "JPY": ["12.5", "12,0", "-1", "x"],
    "KWD": ["1.235", "1.2345", "1.001"],  # KWD is charged in steps of 0.010
}


@pytest.mark.browser
def test_the_page_s_money_arithmetic_is_the_domain_s(bill: FakeBill, chromium: str):
    rng = random.Random(15)
    cases = {currency: _money_cases(currency, rng) for currency in ("EUR", "JPY", "KWD")}
    digits = {"EUR": 2, "JPY": 0, "KWD": 3}  # written out: the oracle does not read the product's table

    def work(page: Any) -> dict[str, Any]:
        page.goto(f"{bill.url}/bill/tok_1")
        seen = {}
        for currency, rows in cases.items():
            seen[currency] = page.evaluate(
                """([digits, rows, bad]) => {
                  const m = billMoney(digits);
                  const got = rows.map(({ args: [amount, pct, remaining, left, k, typed] }) =>
                    [m.percentOf(amount, pct), m.roundUp(amount), m.equalShare(remaining, left, k), m.parse(typed),
                     m.decimal(amount)]);
                  return { got, bad: bad.map((text) => m.parse(text)) };
                }""",
                [digits[currency], rows, NOT_AMOUNTS[currency]],
            )
        return seen

    seen = in_browser(work, chromium).result(BROWSER)
    for currency, rows in cases.items():
        assert seen[currency]["got"] == [row["want"] for row in rows], currency
        assert seen[currency]["bad"] == [None] * len(NOT_AMOUNTS[currency]), currency
