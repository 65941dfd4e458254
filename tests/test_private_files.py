"""Everything TablePay creates is private (files 0600, folders 0700), whatever the caller's umask.

Real processes started with a permissive umask (0o022, the usual default, and 0o000), then every
file and folder under their data dir is looked at: the databases with their -wal and -shm files
while the servers run, a backup, the demo's demo.env and secret.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_app.secrets import Pairing, store_pairing
from pos_app.settings import KioskSettings, save_settings
from pos_app.store.db import open_db
from tablepay_files import write_private
from tests.support.harness import make_order
from tests.support.processes import ROOT, process, read_until, stop, tablepay, unused_port

UMASKS = [0o022, 0o000]


def modes(top: Path) -> dict[str, int]:
    """Permission bits of `top` and everything below it, by path relative to `top`'s parent."""
    found = {top.name: stat.S_IMODE(top.stat().st_mode)}
    for path in top.rglob("*"):
        found[str(path.relative_to(top.parent))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(top: Path) -> dict[str, int]:
    found = modes(top)
    wrong = {
        name: oct(mode) for name, mode in found.items() if mode != (0o700 if (top.parent / name).is_dir() else 0o600)
    }
    assert not wrong, f"not private: {wrong}"
    return found


@pytest.fixture
def process_umask() -> Iterator[None]:
    """For in-process checks: a permissive umask, restored after."""
    previous = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize("umask", UMASKS, ids=oct)
def test_service_sandbox_and_backup_files_are_private(tmp_path, umask):
    data = tmp_path / "data"  # does not exist yet: the commands make it
    sandbox_port, sync_port = unused_port(), unused_port()
    sandbox_url, sync_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{sync_port}"
    secret = "whsec_private_files"
    env = {
        **os.environ,
        "TABLEPAY_DATA_DIR": str(data),
        "STRIPE_SECRET_KEY": "sk_test_private",
        "STRIPE_WEBHOOK_SECRET": secret,
        "STRIPE_API_BASE": sandbox_url,
        "TABLEPAY_PUBLIC_URL": sync_url,
    }
    added = tablepay(["sync", "add-kiosk", "kiosk-1"], env, umask=umask)
    assert added.returncode == 0, added.stderr
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
            umask=umask,
        ),
        process(["sync", "--port", str(sync_port)], env, f"{sync_url}/healthz", umask=umask),
    ):
        with httpx.Client(base_url=sync_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as kiosk:
            payment = kiosk.post("/v1/checkouts", json=make_order()).json()
            httpx.post(
                f"{sandbox_url}/_sandbox/checkout/sessions/{payment['checkout_url'].rsplit('/', 1)[-1]}/complete",
                json={"outcome": "succeeded"},
                timeout=30,
            ).raise_for_status()
            assert kiosk.get("/v1/events", params={"after": 1, "wait": 20}).json()["events"]
        running = assert_private(data)  # while they run: with the -wal and -shm files
        for name in ("sync.sqlite", "sandbox.sqlite", "rkeeper.sqlite"):
            assert {f"data/{name}", f"data/{name}-wal", f"data/{name}-shm"} <= running.keys(), running

        backups = tmp_path / "backups"
        backups.mkdir(mode=0o755)  # the operator's folder: its mode is theirs, the copy's is ours
        backed_up = tablepay(["sync", "backup", str(backups)], env, umask=umask)
        assert backed_up.returncode == 0, backed_up.stderr
    (copy,) = backups.iterdir()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and copy.name.endswith(".sqlite")
    assert_private(data)


@pytest.mark.parametrize("umask", UMASKS, ids=oct)
def test_the_demos_files_are_private(tmp_path, umask):
    env = {**os.environ, "TABLEPAY_DATA_DIR": str(tmp_path / "home")}
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
        umask=umask,
    )
    try:
        read_until(proc, "Waiting for the sync service")
        found = assert_private(tmp_path / "home")
        assert {
            "home/demo",
            "home/demo/demo.env",
            "home/demo/demo-webhook-secret",
            "home/demo/sync/sync.sqlite",
            "home/demo/sync/sync.sqlite-wal",
            "home/demo/sandbox/sandbox.sqlite",
        } <= found.keys(), found
    finally:
        stop(proc)


def test_the_kiosks_store_settings_and_fallback_pairing_are_private(tmp_path, process_umask, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")  # the plain-text fallback
    kiosk = tmp_path / "kiosk"
    db = open_db(kiosk / "kiosk.sqlite")
    try:
        save_settings(KioskSettings(kiosk_id="bar-1"), kiosk)
        store_pairing(Pairing("http://127.0.0.1:8787", "tpk_secret"), kiosk)
        found = assert_private(kiosk)
    finally:
        db.conn.close()
    assert {
        "kiosk/kiosk.sqlite",
        "kiosk/kiosk.sqlite-wal",
        "kiosk/kiosk-settings.json",
        "kiosk/kiosk-credentials-PLAINTEXT.json",
    } <= found.keys(), found


def test_rewriting_a_file_makes_it_private_and_whole(tmp_path, process_umask):
    path = tmp_path / "demo.env"
    path.write_text("OLD=1\n")
    path.chmod(0o644)  # as an older version left it
    write_private(path, "NEW=2\n")
    assert path.read_text() == "NEW=2\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["demo.env"]  # no temporary left behind
