"""Every webhook request is kept raw with its verdict; a failed one answers 5xx and can be replayed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.service.test_webhooks import _paid_event_body, post_webhook, sign
from tests.support.harness import Harness, running_harness


def requests(h: Harness) -> list[dict[str, object]]:
    with h.db() as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM webhook_requests ORDER BY id")]


def test_accepted_duplicate_and_forged_requests_are_all_kept_raw(harness: Harness) -> None:
    body = _paid_event_body(harness)
    event_id = json.loads(body)["id"]
    assert post_webhook(harness, body, sign(body)).json()["outcome"] == "applied"
    assert post_webhook(harness, body, sign(body)).json()["outcome"] == "duplicate"
    assert post_webhook(harness, body, sign(body, secret="whsec_attacker")).status_code == 400
    kept = [r for r in requests(harness) if r["event_id"] == event_id or r["verdict"] == "rejected"]
    assert [r["verdict"] for r in kept] == ["applied", "duplicate", "rejected"]
    assert all(r["body"] == body.decode() for r in kept[:2])
    assert kept[2]["body"] == body[:1024] and kept[2]["body_size"] == len(body)  # a forgery: its first KiB
    assert kept[2]["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert "v1=" in json.loads(str(kept[0]["headers"]))["stripe-signature"]
    assert "signature verification failed" in str(kept[2]["error"])


def _break_payment_updates(h: Harness) -> None:
    with h.db() as conn:
        conn.execute("CREATE TRIGGER boom BEFORE UPDATE ON payments BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")


def _repair(h: Harness) -> None:
    with h.db() as conn:
        conn.execute("DROP TRIGGER boom")


def test_a_failed_processing_answers_500_is_kept_and_replays_once_repaired(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        body = _paid_event_body(h)
        payment_id = json.loads(body)["data"]["object"]["metadata"]["payment_id"]
        _break_payment_updates(h)
        response = post_webhook(h, body, sign(body))
        assert response.status_code == 500 and response.json()["error"]["code"] == "processing_failed"
        [failed] = [r for r in requests(h) if r["verdict"] == "failed"]
        assert "disk on fire" in str(failed["error"]) and failed["body"] == body.decode()
        assert h.payment(payment_id)["status"] == "open"  # rolled back: nothing half-applied

        _repair(h)
        events = h.app.state.payment_events
        outcomes = h.service.run(events.replay_failed(h.app.state.provider))
        assert outcomes == {failed["id"]: "applied"}
        assert h.payment(payment_id)["status"] == "paid"
        assert [r["verdict"] for r in requests(h) if r["id"] == failed["id"]] == ["replayed: applied"]
        assert h.service.run(events.replay_failed(h.app.state.provider)) == {}  # nothing left to replay


def test_replay_command(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        body = _paid_event_body(h)
        payment_id = json.loads(body)["data"]["object"]["metadata"]["payment_id"]
        _break_payment_updates(h)
        assert post_webhook(h, body, sign(body)).status_code == 500
        _repair(h)
        env = h.command_env()
        done = subprocess.run(
            [sys.executable, "-m", "tablepay", "sync", "replay-webhooks"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "applied" in done.stdout
        h.wait_status(payment_id, "paid")


def test_old_clean_requests_are_pruned_but_failed_ones_stay(harness: Harness) -> None:
    body = _paid_event_body(harness)
    assert post_webhook(harness, body, sign(body)).status_code == 200
    with harness.db() as conn:
        conn.execute(
            "INSERT INTO webhook_requests (received_at, event_id, verdict, headers, body) "
            "VALUES ('2020-01-01T00:00:00.000+00:00', 'evt_old', 'failed', '{}', '{}')"
        )
        conn.execute("UPDATE webhook_requests SET received_at = '2020-01-01T00:00:00.000+00:00'")
    harness.service.run(harness.app.state.reconciler.sweep())
    assert [r["verdict"] for r in requests(harness)] == ["failed"]
