"""The guest's phone: the system's headless Chromium driven by Playwright (no browser download).

Playwright's sync API refuses to run inside a running asyncio loop, and the kiosk tests run one
(qasync), so each browser session runs in a worker thread: `in_browser(...)` returns a Future that
the test waits for with qtbot, while Qt and the kiosk keep running on the main thread.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

PHONE = {"width": 390, "height": 844}  # an iPhone 12-14 class screen, in CSS pixels
# Every page records what its Content-Security-Policy blocked: a blocked stylesheet does not fail
# the page, it only makes it look wrong, so tests ask `csp_violations(page)` instead of guessing.
_RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline")));
"""


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__cspViolations"))


CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> str | None:
    wanted = os.environ.get("TABLEPAY_CHROMIUM")
    if wanted:
        return wanted
    for candidate in (*CANDIDATES, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_chromium() -> str:
    """The Chromium to drive; a clear skip where there is none, and a failure in CI (which installs it)."""
    found = find_chromium()
    if found:
        return found
    message = (
        "headless Chromium not found (looked for /usr/bin/chromium; set TABLEPAY_CHROMIUM): install it "
        "with `apt-get install chromium` (scripts/setup does so when run as root) to run the guest's "
        "browser tests"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests, but {message}")
    pytest.skip(message)


def in_browser(work: Callable[[Any], Any], chromium: str) -> Future[Any]:
    """Run `work(page)` on a phone-sized page in a fresh headless Chromium, in a worker thread."""
    return in_phones(lambda pages: work(pages[0]), chromium, 1)


def in_phones(work: Callable[[list[Any]], Any], chromium: str, phones: int) -> Future[Any]:
    """Run `work(pages)` on `phones` phone-sized pages, each in a browser context of its own (two guests'
    phones share no cookies or storage), in one headless Chromium, in a worker thread."""

    def session() -> Any:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
            try:
                pages = []
                for _ in range(phones):
                    context = browser.new_context(
                        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-IE"
                    )
                    context.set_default_timeout(20_000)
                    context.add_init_script(_RECORD_CSP_VIOLATIONS)
                    pages.append(context.new_page())
                return work(pages)
            finally:
                browser.close()

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
    future = pool.submit(session)
    pool.shutdown(wait=False)
    return future


def screenshot_dir(tmp_path: Path) -> Path:
    """TABLEPAY_SCREENSHOTS=docs/screenshots (scripts/screenshots) keeps them; otherwise the test's tmp dir."""
    wanted = os.environ.get("TABLEPAY_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
