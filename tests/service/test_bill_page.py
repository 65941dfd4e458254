"""The guest's bill page: its headers, what a hostile token can do (nothing), and its texts.

The page is static: these tests read it as the browser's parser would split it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sync_service.api
from sync_service.api.bill_page import render_bill_page
from sync_service.api.bill_text import TEXT
from tablepay_locale import LOCALES

HERE = Path(sync_service.api.__file__).parent
SCRIPT = "\n".join(
    (HERE / name).read_text(encoding="utf-8")
    for name in ("bill_money.js", "bill_api.js", "bill_widgets.js", "bill_page.js")
)
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
