"""The `tablepay` command as a newcomer runs it: sandbox and sync service as real processes."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.harness import make_order
from tests.support.processes import process, read_until, stop, unused_port
from tests.support.providers import driver

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DemoCase:
    """What the demo does differently per provider, as a newcomer would see it (not the demo's own table)."""

    args: tuple[str, ...]  # Stripe through the default, Mollie through the option
    folder: str  # inside TABLEPAY_DATA_DIR
    sandbox: str  # the start-up line names the sandbox that plays the provider
    checkout: str  # the guest's page, in the printed checkout URL
    pay: str  # the hint names the button to press there


DEMOS = {
    "stripe": DemoCase((), "demo", "Stripe sandbox", "/c/pay/cs_", "press Pay"),
    "mollie": DemoCase(("--provider", "mollie"), "demo-mollie", "Mollie sandbox", "/mollie/checkout/tr_", "press Paid"),
}


def test_sandbox_process_takes_the_rkeeper_login_from_the_environment(tmp_path):
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TABLEPAY_DATA_DIR": str(tmp_path), "RKEEPER_USER": "cashier", "RKEEPER_PASSWORD": "s3cret"}
    body = '<RK7Query><RK7CMD CMD="GetSystemInfo"/></RK7Query>'
    with process(["sandbox", "--port", str(port)], env, f"{url}/healthz"):
        xml = f"{url}/rk7api/v0/xmlinterface.xml"
        assert httpx.post(xml, content=body, auth=("tablepay", "tablepay"), timeout=10).status_code == 401
        answer = httpx.post(xml, content=body, auth=("cashier", "s3cret"), timeout=10)
        assert answer.status_code == 200 and 'Status="Ok"' in answer.text
    assert (tmp_path / "rkeeper.sqlite").exists()


def test_sandbox_and_sync_service_processes_take_a_payment(tmp_path):
    sandbox_port, sync_port = unused_port(), unused_port()
    sandbox_url, sync_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{sync_port}"
    secret = "whsec_cli_test_secret"
    env = {
        **os.environ,
        "TABLEPAY_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": "sk_test_cli",
        "STRIPE_WEBHOOK_SECRET": secret,
        "STRIPE_API_BASE": sandbox_url,
        "TABLEPAY_PUBLIC_URL": sync_url,
    }
    added = subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", "add-kiosk", "kiosk-1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    token = added.stdout.strip().splitlines()[-1]
    with (
        process(
            [
                "sandbox",
                "--port",
                str(sandbox_port),
                "--webhook-url",
                f"{sync_url}/webhooks/stripe",
                "--webhook-secret",
                secret,
            ],
            env,
            f"{sandbox_url}/healthz",
        ),
        process(["sync", "--host", "127.0.0.1", "--port", str(sync_port)], env, f"{sync_url}/healthz"),
    ):
        kiosk = httpx.Client(base_url=sync_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        with kiosk:
            payment = kiosk.post("/v1/checkouts", json=make_order()).json()
            session_id = payment["checkout_url"].rsplit("/", 1)[-1]
            httpx.post(
                f"{sandbox_url}/_sandbox/checkout/sessions/{session_id}/complete",
                json={"outcome": "succeeded"},
                timeout=30,
            ).raise_for_status()
            events = kiosk.get("/v1/events", params={"after": 1, "wait": 20, "events": "all"}).json()["events"]
            # The order's status moved in the same commit.
            assert [e["event"] for e in events] == ["payment.succeeded", "order.status"]
            assert kiosk.get(f"/v1/payments/{payment['payment_id']}").json()["status"] == "paid"
        second = subprocess.run(
            [sys.executable, "-m", "tablepay", "sync", "--port", str(sync_port)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1 and f"port {sync_port} on 127.0.0.1 is in use" in second.stderr
        assert "sync_service" not in second.stderr  # no "listening" line from the copy that could not start
    assert (tmp_path / "sync.sqlite").exists() and (tmp_path / "sandbox.sqlite").exists()


@pytest.mark.parametrize("provider", DEMOS)
def test_demo_walks_a_payment_to_paid(tmp_path, provider):
    case = DEMOS[provider]
    sandbox_port, sync_port = unused_port(), unused_port()
    env = {**os.environ, "TABLEPAY_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tablepay",
            "demo",
            *case.args,
            "--once",
            "--sandbox-port",
            str(sandbox_port),
            "--sync-port",
            str(sync_port),
        ],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        seen = read_until(proc, case.checkout, timeout=30)
        url = seen[-1].strip()
        assert url.startswith(f"http://127.0.0.1:{sandbox_port}{case.checkout}")
        said = "".join(seen)
        assert f"TablePay demo (offline): {case.sandbox} http://127.0.0.1:{sandbox_port}," in said
        assert f"Guest, scan or open, then {case.pay}" in said, said
        # While it runs: a second demo on the same data dir is refused, and demo.env reaches its service.
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "tablepay",
                "demo",
                *case.args,
                "--once",
                "--sandbox-port",
                str(unused_port()),
                "--sync-port",
                str(unused_port()),
            ],
            env=env,
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=60,
        )
        assert second.returncode == 1 and "another demo is running with the data dir" in second.stderr
        settings = dict(line.split("=", 1) for line in (tmp_path / case.folder / "demo.env").read_text().splitlines())
        assert settings["TABLEPAY_PROVIDER"] == provider
        added = subprocess.run(
            [sys.executable, "-m", "tablepay", "sync", "add-kiosk", "bar-1"],
            cwd=ROOT,
            text=True,
            env={**os.environ, **{k: v.strip("'") for k, v in settings.items()}},
            capture_output=True,
            timeout=60,
        )
        token = added.stdout.strip().splitlines()[-1]
        whoami = httpx.get(
            f"http://127.0.0.1:{sync_port}/v1/kiosk", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        # The sample order's donation is taken on both: Mollie's through split payments to the partner.
        assert whoami == {
            "kiosk_id": "bar-1",
            "donations": True,
            "donation_partner": "Red Cross (demo)",
            "kitchen": "on_send",
        }
        guest = driver(provider, f"http://127.0.0.1:{sandbox_port}")  # the sandbox's test control for "paid"
        with guest.http:
            guest.complete({"checkout_url": url}, "succeeded")
        output, _ = proc.communicate(timeout=30)
        assert "PAID: 29.60 EUR for table 7." in output
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("provider", DEMOS)
def test_demo_opens_the_qt_kiosk_offscreen(tmp_path, provider):
    case = DEMOS[provider]
    env = {**os.environ, "TABLEPAY_DATA_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tablepay",
            "demo",
            *case.args,
            "--sandbox-port",
            str(unused_port()),
            "--sync-port",
            str(unused_port()),
        ],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        seen = read_until(proc, "Settings: hold the TablePay logo")
        said = "".join(seen)
        assert f"TablePay demo (offline): {case.sandbox} " in said, said
        assert any("Kiosk window open" in line and f"URL and {case.pay}" in line for line in seen), said
        assert (tmp_path / case.folder / "kiosk").is_dir()
    finally:
        stop(proc)


def test_demo_without_a_display_lets_the_terminal_play_the_kiosk(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["TABLEPAY_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tablepay",
            "demo",
            "--sandbox-port",
            str(unused_port()),
            "--sync-port",
            str(unused_port()),
        ],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "no display found" in first and "terminal plays the kiosk" in first
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_demo_whose_qt_cannot_start_says_why_and_lets_the_terminal_play_the_kiosk(tmp_path):
    """A display that Qt cannot use (here: nobody listens on it) must not abort the demo."""
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(TABLEPAY_DATA_DIR=str(tmp_path), DISPLAY=":9876")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tablepay",
            "demo",
            "--sandbox-port",
            str(unused_port()),
            "--sync-port",
            str(unused_port()),
        ],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        seen = read_until(proc, "Waiting for the sync service")
        said = [line for line in seen if "the kiosk window cannot open" in line]
        assert len(said) == 1 and "could not connect to display :9876" in said[0], "".join(seen)
        assert "terminal plays the kiosk" in said[0]
    finally:
        stop(proc)


def test_ctrl_c_stops_the_demo_at_once_and_cleanly(tmp_path):
    env = {**os.environ, "TABLEPAY_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tablepay",
            "demo",
            "--terminal",
            "--sandbox-port",
            str(unused_port()),
            "--sync-port",
            str(unused_port()),
        ],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    read_until(proc, "Waiting for the sync service")
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    output, _ = proc.communicate(timeout=20)
    assert time.monotonic() - started < 10
    assert "demo stopped" in output and "Traceback" not in output
    assert proc.returncode == 0
