"""Pairing by code over real HTTP, with the real `tablepay sync add-kiosk --code` as a process beside it."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync_service.main import approve_pairing_code
from sync_service.services import pairing
from sync_service.services.pairing import CODE_TTL_SECONDS, Approval
from tests.support.harness import Clock, Harness, running_harness

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def harness(tmp_path: Path, clock: Clock) -> Iterator[Harness]:
    with running_harness(tmp_path, clock=clock) as running:
        yield running


def add_kiosk(h: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", "add-kiosk", *args],
        env=h.command_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def new_code(h: Harness, **body: str) -> dict[str, object]:
    response = httpx.post(f"{h.service.url}/v1/pairing/codes", json=body or None, timeout=10)
    assert response.status_code == 201, response.text
    return dict(response.json())


def poll(h: Harness, code: object, secret: object, wait: float = 0) -> httpx.Response:
    return httpx.get(
        f"{h.service.url}/v1/pairing/codes/{code}",
        params={"wait": wait},
        headers={"Poll-Token": str(secret)},
        timeout=wait + 10,
    )


def test_add_kiosk_with_the_code_hands_the_waiting_kiosk_its_token_once(harness: Harness) -> None:
    created = new_code(harness, kiosk_name="till-3")
    code, secret = str(created["code"]), str(created["poll_token"])
    assert len(code) == 9 and code[4] == "-" and created["expires_in"] == CODE_TTL_SECONDS
    waiting = poll(harness, code, secret).json()
    assert waiting["status"] == "waiting" and CODE_TTL_SECONDS - 5 < waiting["expires_in"] <= CODE_TTL_SECONDS

    async def kiosk_waits_while_the_operator_approves() -> tuple[httpx.Response, subprocess.CompletedProcess[str]]:
        async with httpx.AsyncClient(timeout=60) as client:
            waiting = asyncio.create_task(
                client.get(
                    f"{harness.service.url}/v1/pairing/codes/{code}",
                    params={"wait": 25},
                    headers={"Poll-Token": secret},
                )
            )
            # typed as a person would: lower case, no dash
            added = await asyncio.to_thread(
                add_kiosk, harness, "bar-7", "--code", code.lower().replace("-", ""), "--manager"
            )
            return await waiting, added

    answer, added = asyncio.run(kiosk_waits_while_the_operator_approves())
    assert added.returncode == 0, added.stderr
    assert "Kiosk 'bar-7' paired with manager rights (refunds) (the kiosk calls itself 'till-3')" in added.stdout
    assert "its pairing screen collected its token" in added.stdout
    paired = answer.json()
    assert answer.status_code == 200 and paired["status"] == "paired" and paired["kiosk_id"] == "bar-7"
    bearer = {"Authorization": f"Bearer {paired['token']}"}
    assert httpx.get(f"{harness.service.url}/v1/kiosk", headers=bearer).json()["kiosk_id"] == "bar-7"
    assert harness.app.state.repo.kiosk_scopes("bar-7") == {"kiosk", "manager"}
    # Single-use: the token is never handed out again, and the code cannot pair another kiosk.
    assert poll(harness, code, secret).status_code == 404
    again = add_kiosk(harness, "bar-8", "--code", code)
    assert again.returncode == 2
    assert f"pairing code {code!r} was already used (for kiosk 'bar-7')" in again.stderr
    assert "Nothing changed" in again.stderr


def test_an_approved_code_issues_nothing_until_its_kiosk_collects(harness: Harness) -> None:
    created = new_code(harness)
    result, collected = approve_pairing_code(harness.settings, str(created["code"]), "bar-9")
    assert result.outcome is Approval.APPROVED and not collected
    assert harness.app.state.repo.kiosk_scopes("bar-9") == set()  # no token exists yet
    paired = poll(harness, created["code"], created["poll_token"]).json()
    assert paired["kiosk_id"] == "bar-9" and harness.app.state.repo.kiosk_scopes("bar-9") == {"kiosk"}


def test_a_wrong_code_or_poll_token_is_404_and_says_nothing_more(harness: Harness) -> None:
    created = new_code(harness)
    code, secret = created["code"], created["poll_token"]
    answers = [
        poll(harness, "KXM4-7RPQ", secret),
        poll(harness, code, "not-the-secret"),
        poll(harness, code, ""),
        poll(harness, "not a code at all", secret),
        httpx.get(
            f"{harness.service.url}/v1/pairing/codes/{code}",  # a kiosk token is no poll secret
            headers={"Authorization": f"Bearer {harness.token}"},
        ),
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1 and "kiosk-1" not in answers[0].text
    assert poll(harness, code, secret).json()["status"] == "waiting"  # the real kiosk still can


def test_an_expired_code_is_404_and_add_kiosk_says_it_expired(harness: Harness, clock: Clock) -> None:
    created = new_code(harness)
    clock.offset = CODE_TTL_SECONDS + 1  # eleven minutes later, for the service
    assert poll(harness, created["code"], created["poll_token"]).status_code == 404
    # A code that expired in real time (the add-kiosk process has its own clock).
    clock.offset = -(CODE_TTL_SECONDS + 1)
    old = new_code(harness)
    refused = add_kiosk(harness, "bar-1", "--code", str(old["code"]))
    assert refused.returncode == 2 and f"pairing code {old['code']!r} expired at" in refused.stderr
    assert "Press New code on the kiosk" in refused.stderr
    assert harness.app.state.repo.kiosk_scopes("bar-1") == set()


def test_add_kiosk_refuses_an_unknown_or_misspelt_code(harness: Harness) -> None:
    unknown = add_kiosk(harness, "bar-1", "--code", "KXM4-7RPQ")
    assert unknown.returncode == 2 and "no pairing code 'KXM4-7RPQ' is waiting on this service" in unknown.stderr
    misspelt = add_kiosk(harness, "bar-1", "--code", "KXM4-7RP0")  # 0 is not in the alphabet
    assert misspelt.returncode == 2 and "is not a pairing code" in misspelt.stderr


def test_creating_and_polling_are_rate_limited_per_address(harness: Harness) -> None:
    from sync_service.api.pairing_routes import CREATE_BURST, POLL_BURST

    created = [httpx.post(f"{harness.service.url}/v1/pairing/codes", timeout=10) for _ in range(CREATE_BURST + 1)]
    assert [r.status_code for r in created] == [201] * CREATE_BURST + [429]
    assert created[-1].json()["error"]["code"] == "rate_limited" and created[-1].headers["retry-after"] == "60"
    first = created[0].json()
    polls = [poll(harness, first["code"], first["poll_token"]) for _ in range(POLL_BURST + 1)]
    assert [r.status_code for r in polls] == [200] * POLL_BURST + [429]
    assert harness.kiosk.get("/v1/kiosk").status_code == 200  # the kiosks' own API has no such budget


def test_live_codes_are_bounded_whoever_asks(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pairing, "MAX_LIVE_CODES", 3)
    answers = [httpx.post(f"{harness.service.url}/v1/pairing/codes", timeout=10).status_code for _ in range(4)]
    assert answers == [201, 201, 201, 429]


def test_only_hashes_of_the_code_and_poll_token_are_stored(harness: Harness) -> None:
    created = new_code(harness)
    approve_pairing_code(harness.settings, str(created["code"]), "bar-2")
    token = poll(harness, created["code"], created["poll_token"]).json()["token"]
    with sqlite3.connect(harness.settings.database_path) as conn:
        dump = "\n".join(conn.iterdump())
    for secret in (str(created["code"]), str(created["code"]).replace("-", ""), str(created["poll_token"]), token):
        assert secret not in dump


def test_a_code_is_read_as_a_person_types_it() -> None:
    from sync_service.services.pairing import CODE_ALPHABET, display_code, normalise_code

    assert not set(CODE_ALPHABET) & set("01ILOBSZ")  # nothing to misread across a counter
    assert normalise_code(" kxm4-7rpq ") == normalise_code("KXM4 7RPQ") == "KXM47RPQ"
    assert normalise_code("KXM4-7RPB") == "KXM47RP8"  # a B is the 8 the screen shows
    assert normalise_code("KXM4-7RP0") is None and normalise_code("KXM4-7RP") is None
    assert display_code("KXM47RPQ") == "KXM4-7RPQ"
