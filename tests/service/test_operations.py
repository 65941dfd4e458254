"""Operator commands through real HTTP: `tablepay sync check-config` against the sandbox and its
R-Keeper simulator, and `tablepay sync backup` of a running service's store."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from pydantic import SecretStr

from sync_service.backup import BackupError, backup_database
from sync_service.checks import Check, render, run_checks
from tablepay.cli import main
from tests.support.harness import SECRET_KEY, WEBHOOK_SECRET, Harness, make_order, running_harness
from tests.support.live_server import refused_url


@pytest.fixture
def pos_harness(tmp_path):
    with running_harness(tmp_path, pos=True) as running:
        yield running


def checks(harness: Harness, **changes: object) -> dict[str, Check]:
    settings = harness.settings.model_copy(update=changes)
    return {check.name: check for check in asyncio.run(run_checks(settings))}


def test_everything_reachable_is_ok(pos_harness: Harness):
    found = checks(pos_harness)
    assert {name: check.status for name, check in found.items()} == {
        "data dir": "OK",
        "payments": "WARN",
        "Stripe": "OK",
        "webhooks": "OK",
        "POS": "OK",
    }
    assert "payments are not real" in found["payments"].detail
    assert pos_harness.sandbox.url in found["payments"].detail
    assert "test mode" in found["Stripe"].detail
    assert f"{pos_harness.service.url}/webhooks/stripe" in found["webhooks"].detail
    assert "GetSystemInfo" in found["POS"].detail


def test_a_key_the_api_refuses_fails_with_the_providers_message(pos_harness: Harness):
    found = checks(pos_harness, stripe_secret_key=SecretStr("rk_test_not_for_the_sandbox"))
    stripe = found["Stripe"]
    assert stripe.status == "FAIL" and "refused STRIPE_SECRET_KEY (HTTP 401" in stripe.detail
    assert "Invalid API Key provided" in stripe.detail and "API keys" in stripe.fix
    assert "webhooks" not in found  # nothing more to ask with a refused key


def test_an_unreachable_pos_fails_and_says_where_to_look(pos_harness: Harness):
    with refused_url() as nobody:
        found = checks(pos_harness, rkeeper_url=nobody, rkeeper_timeout_seconds=2)
    pos = found["POS"]
    assert pos.status == "FAIL" and "GetSystemInfo: cannot reach the POS" in pos.detail
    assert "RKEEPER_URL" in pos.fix and found["Stripe"].status == "OK"


def test_a_wrong_pos_password_fails_with_the_login_message(pos_harness: Harness):
    found = checks(pos_harness, rkeeper_password=SecretStr("wrong"))
    pos = found["POS"]
    assert pos.status == "FAIL" and "the POS refused the login (HTTP 401)" in pos.detail
    assert "RKEEPER_PASSWORD" in pos.fix


def test_tls_turned_off_for_the_pos_is_a_warning_in_the_output(pos_harness: Harness):
    found = checks(
        pos_harness, rkeeper_url=pos_harness.sandbox.url.replace("http:", "https:"), rkeeper_verify_tls=False
    )
    assert found["POS TLS"].status == "WARN" and "RKEEPER_VERIFY_TLS=false" in found["POS TLS"].detail
    out = render(list(found.values()))
    assert "WARN  POS TLS   RKEEPER_VERIFY_TLS=false" in out and "RKEEPER_CA_BUNDLE" in out


def test_a_plain_http_pos_across_the_network_is_a_warning(pos_harness: Harness):
    found = checks(pos_harness, rkeeper_url="http://192.0.2.10:4545", rkeeper_timeout_seconds=1)
    assert found["POS TLS"].status == "WARN" and "plain http://" in found["POS TLS"].detail
    assert "WARN  POS TLS   RKEEPER_URL http://192.0.2.10:4545 is plain http://" in render(list(found.values()))
    assert "POS TLS" not in checks(pos_harness)  # the simulator on loopback: nothing crosses a network


def test_unreachable_stripe_and_a_missing_public_url(tmp_path):
    with running_harness(tmp_path) as harness, refused_url() as nobody:
        found = checks(harness, stripe_api_base=nobody, public_url=None)
    assert found["Stripe"].status == "FAIL" and "cannot reach the sandbox" in found["Stripe"].detail
    assert found["POS"].status == "SKIP"


@pytest.fixture
def service_env(monkeypatch, tmp_path):
    for name in ("TABLEPAY_CONFIG", "RKEEPER_URL", "STRIPE_API_BASE", "TABLEPAY_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TABLEPAY_DATA_DIR", str(tmp_path / "env-data"))
    return monkeypatch


def test_cli_prints_each_check_and_exits_0(pos_harness: Harness, service_env, capsys):
    service_env.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    service_env.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    service_env.setenv("STRIPE_API_BASE", pos_harness.sandbox.url)
    service_env.setenv("TABLEPAY_PUBLIC_URL", pos_harness.service.url)
    assert main(["sync", "check-config"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("OK    settings  loaded from the environment")
    assert "OK    Stripe" in out and "SKIP  POS" in out and out.rstrip().endswith("All checks passed.")
    assert f"WARN  payments  STRIPE_API_BASE is {pos_harness.sandbox.url}, not Stripe: payments are not real" in out


@pytest.mark.parametrize("key", ["sk_live_51Hrestaurant0000secret", "rk_live_51Hrestaurant0000secret"])
def test_a_live_key_aimed_at_the_sandbox_fails_and_is_not_sent_there(pos_harness: Harness, key):
    # model_copy skips the settings' own refusal: check-config must still not send the key anywhere.
    found = checks(pos_harness, stripe_secret_key=SecretStr(key))
    assert found["payments"].status == "FAIL" and "live key" in found["payments"].detail
    assert "STRIPE_API_BASE" in found["payments"].detail and "0000secret" not in found["payments"].detail
    assert "Stripe" not in found and "webhooks" not in found


def test_cli_fails_a_live_key_with_the_sandbox(pos_harness: Harness, service_env, capsys):
    service_env.setenv("STRIPE_SECRET_KEY", "sk_live_51Hrestaurant0000secret")
    service_env.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    service_env.setenv("STRIPE_API_BASE", pos_harness.sandbox.url)
    assert main(["sync", "check-config"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  settings" in out and "STRIPE_SECRET_KEY is a live key" in out and "STRIPE_API_BASE" in out
    assert "OK " not in out and "0000secret" not in out and "1 check(s) failed." in out


def test_cli_names_a_missing_setting_and_exits_1(service_env, capsys):
    service_env.delenv("STRIPE_SECRET_KEY", raising=False)
    service_env.setenv("STRIPE_WEBHOOK_SECRET", "not-a-secret")
    assert main(["sync", "check-config"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  settings" in out and "STRIPE_SECRET_KEY is not set" in out
    assert "STRIPE_WEBHOOK_SECRET is wrong" in out and "1 check(s) failed." in out


def test_backup_of_a_running_service_is_a_consistent_copy(tmp_path, capsys):
    with running_harness(tmp_path) as harness:
        response = harness.checkout(make_order())
        assert response.status_code == 201, response.text
        harness.complete(response.json(), "succeeded")
        harness.wait_status(response.json()["payment_id"], "paid")
        (tmp_path / "backups").mkdir()
        assert main(["sync", "backup", str(tmp_path / "backups"), "--data-dir", str(harness.settings.data_dir)]) == 0
        copy = next((tmp_path / "backups").glob("sync-*.sqlite"))
        assert "1 payments, integrity ok" in capsys.readouterr().out
        with pytest.raises(BackupError, match="exists already"):
            backup_database(harness.settings.database_path, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT status FROM payments").fetchall() == [("paid",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not list((tmp_path / "backups").glob("*.part"))


def test_backup_of_a_missing_store_says_so(tmp_path, capsys):
    assert main(["sync", "backup", str(tmp_path / "x.sqlite"), "--data-dir", str(tmp_path / "nothing")]) == 1
    assert "no database at" in capsys.readouterr().err


def test_check_config_on_mollie_asks_mollie_and_says_what_mollie_cannot_reach(tmp_path, service_env, capsys):
    with running_harness(tmp_path, provider="mollie") as h:
        for name, value in h.command_env().items():
            service_env.setenv(name, value)
        service_env.setenv("TABLEPAY_PUBLIC_URL", h.service.url)  # loopback http: Mollie cannot call it
        assert main(["sync", "check-config"]) == 0  # the sandbox's base: a warning, not a failure
        out = capsys.readouterr().out
        assert f"OK    Mollie    {h.sandbox.url} accepted MOLLIE_API_KEY (test mode)" in out
        assert "WARN  webhooks" in out and "Mollie needs a public HTTPS address" in out
        assert "OK    donations" in out and "routed to org_1RedCross (split payments)" in out
        assert "WARN  payments" in out and "not Mollie" in out
        capsys.readouterr()
        service_env.setenv("MOLLIE_API_KEY", "live_realKeyNeverSentThere")
        assert main(["sync", "check-config"]) == 1
        assert "a live key is only sent to https://api.mollie.com" in capsys.readouterr().out
