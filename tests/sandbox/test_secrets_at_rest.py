"""What the sandbox keeps of the secrets it is shown: digests, never the secrets themselves."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx

from tablepay_sandbox.app import create_app

from .conftest import Sandbox, SandboxFactory, session_params

XML_PATH = "/rk7api/v0/xmlinterface.xml"


def _everything_stored(data_dir: Path) -> bytes:
    """Every byte the sandbox wrote: its databases with their -wal and -shm files."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.rglob("*")) if path.is_file())


def test_api_keys_are_kept_as_sha256_only(start_sandbox: SandboxFactory) -> None:
    sandbox: Sandbox = start_sandbox()
    api_key = f"sk_test_{uuid.uuid4().hex}"
    client = sandbox.client(api_key)
    idempotency_key = str(uuid.uuid4())
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": idempotency_key})
    replayed = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": idempotency_key})
    assert replayed.id == first.id  # still scoped by the key: its digest is enough for that
    other = sandbox.client(f"sk_test_{uuid.uuid4().hex}").v1.checkout.sessions.create(
        session_params(), {"idempotency_key": idempotency_key}
    )
    assert other.id != first.id
    client.v1.checkout.sessions.list()

    while_running = _everything_stored(sandbox.data_dir)
    sandbox.server.stop()  # closes the store: the WAL is checkpointed into the file
    after_stop = _everything_stored(sandbox.data_dir)
    for stored in (while_running, after_stop):
        assert api_key.encode() not in stored
        assert api_key[len("sk_test_") :].encode() not in stored
    assert hashlib.sha256(api_key.encode()).hexdigest().encode() in while_running + after_stop


def test_the_rkeeper_simulator_keeps_only_the_passwords_digest(tmp_path: Path) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    app = create_app(tmp_path, public_url="http://127.0.0.1:1", rkeeper_user="cashier", rkeeper_password=password)
    simulator = app.state.rkeeper
    assert password not in repr(simulator)
    assert all(password not in repr(value) for value in vars(simulator).values())


def test_the_rkeeper_login_still_checks_the_password(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox()
    body = '<RK7Query><RK7CMD CMD="GetSystemInfo"/></RK7Query>'
    ok = httpx.post(sandbox.url + XML_PATH, content=body, auth=("tablepay", "tablepay"), timeout=10)
    assert ok.status_code == 200 and 'Status="Ok"' in ok.text
    for auth in (("tablepay", "tablepay "), ("tablepay", ""), ("tablepay", "Tablepay")):
        assert httpx.post(sandbox.url + XML_PATH, content=body, auth=auth, timeout=10).status_code == 401
