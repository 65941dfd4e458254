"""The service's log as a real process writes it: warnings survive a SIGKILL, and the standard
library's records (httpx, uvicorn, ...) come out as the same JSON lines as the service's own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime

import httpx

from tests.support.harness import make_order
from tests.support.processes import ROOT, healthy, listening_port, process, tablepay, unused_port
from tests.support.waiting import eventually


def json_lines(output: str) -> list[dict[str, object]]:
    lines = [line for line in output.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object: none is plain text
    return parsed


def test_a_warning_is_written_before_a_sigkill_and_stdlib_records_look_like_ours(tmp_path):
    sandbox_url = f"http://127.0.0.1:{unused_port()}"  # the sandbox builds its pages' URL from its port
    env = {
        **os.environ,
        "TABLEPAY_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": "sk_test_logs",
        "STRIPE_WEBHOOK_SECRET": "whsec_logs",
        "STRIPE_API_BASE": sandbox_url,
    }
    token = tablepay(["sync", "add-kiosk", "kiosk-1"], env).stdout.strip().splitlines()[-1]
    with process(["sandbox", "--port", sandbox_url.rsplit(":", 1)[1]], env, f"{sandbox_url}/healthz"):
        # Port 0: the OS picks a free one, read back from /proc (nobody needs to know it in advance).
        service = subprocess.Popen(
            [sys.executable, "-m", "tablepay", "sync", "--port", "0"],
            env=env,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:

            def listening() -> int | None:
                assert service.poll() is None
                return listening_port(service.pid)

            port = eventually(listening, timeout=30, interval=0.1, message="the service listening")
            sync_url = f"http://127.0.0.1:{port}"
            eventually(
                lambda: listening() and healthy(f"{sync_url}/healthz"),
                timeout=30,
                interval=0.1,
                message="the service answering",
            )
            checkout = httpx.post(
                f"{sync_url}/v1/checkouts", json=make_order(), timeout=30, headers={"Authorization": f"Bearer {token}"}
            )
            assert checkout.status_code == 201, checkout.text  # the service called the sandbox through httpx
            forged = httpx.post(
                f"{sync_url}/webhooks/stripe",
                content=b'{"id": "evt_forged"}',
                timeout=10,
                headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"},
            )
            assert forged.status_code == 400
        finally:
            service.send_signal(signal.SIGKILL)  # no atexit, no flush: what is not written now is lost
            output, _ = service.communicate(timeout=10)
    lines = json_lines(output)
    rejected = [line for line in lines if line["event"] == "webhook_rejected"]
    assert len(rejected) == 1 and rejected[0]["level"] == "warning", output

    ours = next(line for line in lines if line["event"] == "sync_service_listening")
    stdlib = next(line for line in lines if line.get("logger") == "httpx")
    assert str(stdlib["event"]).startswith(f"HTTP Request: POST {sandbox_url}/v1/checkout/sessions")
    assert any(line.get("logger") == "stripe" and "Request to Stripe api" in str(line["event"]) for line in lines)
    assert stdlib["level"] == ours["level"] == "info"
    for line in (ours, stdlib, rejected[0]):
        assert str(line["timestamp"]).endswith("Z")
        datetime.fromisoformat(str(line["timestamp"]).removesuffix("Z"))
    assert (
        ours.keys() - {"url", "docs", "provider", "payments", "data"}
        == stdlib.keys() - {"logger"}
        == {"event", "level", "timestamp"}
    )
