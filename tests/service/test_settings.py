"""Settings: a missing or wrong one is named at start; every one is documented."""

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import AliasChoices

from sync_service.settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_API_BASE",
        "TABLEPAY_CONFIG",
        "TABLEPAY_DONATION_ACCOUNT",
        "TABLEPAY_PUBLIC_URL",
        "TABLEPAY_PROVIDER",
        "TABLEPAY_DEPLOYMENT",
        "MOLLIE_API_KEY",
        "MOLLIE_API_BASE",
        "MOLLIE_SPLIT_PAYMENTS",
        "TABLEPAY_DONATION_ORGANIZATION",
        "TABLEPAY_DATABASE_URL",
        "TABLEPAY_OUTBOX_LEASE_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_mollie_needs_its_key_and_not_stripes(monkeypatch):
    monkeypatch.setenv("TABLEPAY_PROVIDER", "mollie")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "MOLLIE_API_KEY is not set" in str(error.value) and "needed with TABLEPAY_PROVIDER=mollie" in str(
        error.value
    )
    assert "STRIPE" not in str(error.value)
    monkeypatch.setenv("MOLLIE_API_KEY", "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM")
    settings = load_settings()
    assert settings.provider == "mollie" and settings.donation_destination is None  # no split payments: no donation


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MOLLIE_API_KEY": "sk_test_123"}, "MOLLIE_API_KEY is wrong"),
        ({"MOLLIE_API_KEY": "access_123"}, "an access_ token is not supported"),
        (
            {"MOLLIE_API_KEY": "live_abc", "MOLLIE_API_BASE": "http://127.0.0.1:12111"},
            "a live key is only sent to https://api.mollie.com",
        ),
        ({"MOLLIE_API_KEY": "test_abc", "TABLEPAY_DEPLOYMENT": "production"}, "MOLLIE_API_KEY is a test key"),
        ({"MOLLIE_API_KEY": "test_abc", "MOLLIE_SPLIT_PAYMENTS": "true"}, "TABLEPAY_DONATION_ORGANIZATION"),
        (
            {"MOLLIE_API_KEY": "test_abc", "TABLEPAY_DONATION_ORGANIZATION": "acct_123"},
            "TABLEPAY_DONATION_ORGANIZATION is wrong",
        ),
    ],
)
def test_a_wrong_mollie_setting_is_named(monkeypatch, env, message):
    monkeypatch.setenv("TABLEPAY_PROVIDER", "mollie")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert message in str(error.value)


def test_a_test_key_in_production_is_refused_for_stripe_too(monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_123")
    monkeypatch.setenv("TABLEPAY_DEPLOYMENT", "production")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "STRIPE_SECRET_KEY is a test key" in str(error.value)


def test_missing_secrets_are_named(monkeypatch):
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "STRIPE_SECRET_KEY is not set" in str(error.value)
    assert "STRIPE_WEBHOOK_SECRET is not set" in str(error.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STRIPE_SECRET_KEY", "pk_test_123", "STRIPE_SECRET_KEY is wrong"),
        ("STRIPE_WEBHOOK_SECRET", "secret", "STRIPE_WEBHOOK_SECRET is wrong"),
        ("STRIPE_API_BASE", "localhost:12111", "STRIPE_API_BASE is wrong"),
        ("TABLEPAY_DONATION_ACCOUNT", "redcross", "TABLEPAY_DONATION_ACCOUNT is wrong"),
        ("TABLEPAY_CHECKOUT_TTL", "60", "TABLEPAY_CHECKOUT_TTL is wrong"),
        ("TABLEPAY_DATABASE_URL", "sqlite:////var/lib/tablepay/sync.sqlite", "must be a PostgreSQL URL"),
        ("TABLEPAY_DATABASE_URL", "db.example.com/tablepay", "TABLEPAY_DATABASE_URL is wrong"),
        ("TABLEPAY_OUTBOX_LEASE_SECONDS", "0", "TABLEPAY_OUTBOX_LEASE_SECONDS is wrong"),
        ("TABLEPAY_OUTBOX_LEASE_SECONDS", "7200", "TABLEPAY_OUTBOX_LEASE_SECONDS is wrong"),
    ],
)
def test_wrong_values_are_named(monkeypatch, name, value, message):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_1")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_1")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_toml_file_is_read_and_env_wins(monkeypatch, tmp_path):
    config = tmp_path / "tablepay.toml"
    config.write_text(
        'stripe_secret_key = "sk_test_from_file"\nstripe_webhook_secret = "whsec_file"\n'
        'donation_partner = "Red Cross"\nmax_total = 5000\n'
    )
    monkeypatch.setenv("TABLEPAY_CONFIG", str(config))
    monkeypatch.setenv("TABLEPAY_MAX_TOTAL", "7000")
    settings = load_settings()
    assert settings.stripe_secret_key.get_secret_value() == "sk_test_from_file"
    assert settings.donation_partner == "Red Cross"
    assert settings.max_total == 7000


def test_secrets_are_masked_when_printed(monkeypatch):
    settings = Settings(
        stripe_secret_key="sk_test_verysecret",
        stripe_webhook_secret="whsec_verysecret",
        database_url="postgresql://tablepay:verysecret@db.example.com/tablepay",
    )
    assert "verysecret" not in repr(settings) and "verysecret" not in str(settings)


@pytest.mark.parametrize("url", ["postgresql://tablepay@db.example.com/tablepay", "postgres://tablepay@/tablepay"])
def test_a_database_url_means_postgresql_and_none_means_sqlite(monkeypatch, url):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_1")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_1")
    assert load_settings().database_url is None and load_settings().outbox_lease_seconds == 60
    monkeypatch.setenv("TABLEPAY_DATABASE_URL", url)
    found = load_settings().database_url
    assert found is not None and found.get_secret_value() == url
    monkeypatch.setenv("TABLEPAY_DATABASE_URL", "")
    assert load_settings().database_url is None


def test_every_setting_is_documented():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env_name = alias.choices[0] if isinstance(alias, AliasChoices) else name
        assert f"`{env_name}`" in documented, f"{env_name} is not in docs/configuration.md"
    assert "`TABLEPAY_CONFIG`" in documented


def test_the_service_refuses_to_start_without_settings(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    result = subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "STRIPE_SECRET_KEY is not set" in result.stderr


def test_add_kiosk_prints_a_token_once_and_stores_only_its_hash(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TABLEPAY_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": "sk_test_1",
        "STRIPE_WEBHOOK_SECRET": "whsec_1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", "add-kiosk", "bar-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("tpk_") and len(token) > 40
    with sqlite3.connect(tmp_path / "sync.sqlite") as conn:
        rows = conn.execute("SELECT * FROM kiosks").fetchall()
    assert len(rows) == 1 and rows[0][0] == "bar-1"
    assert rows[0][1] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in rows[0])


LIVE_KEYS = ["sk_live_51Hrestaurant0000secret", "rk_live_51Hrestaurant0000secret"]
NOT_STRIPE = [
    "http://127.0.0.1:12111",
    "https://api.stripe.com.example.net",
    "http://api.stripe.com",
    "https://sandbox.example.com",
]


@pytest.mark.parametrize("key", LIVE_KEYS)
@pytest.mark.parametrize("base", NOT_STRIPE)
def test_a_live_key_is_refused_with_any_api_base_but_stripes_own(key, base):
    with pytest.raises(ConfigError) as error:
        load_settings(stripe_secret_key=key, stripe_webhook_secret="whsec_1", stripe_api_base=base)
    problem = str(error.value).removeprefix("configuration error:\n  ")
    assert "\n" not in problem and "STRIPE_SECRET_KEY" in problem and "STRIPE_API_BASE" in problem
    assert base in problem and "secret" not in problem.removeprefix("STRIPE_SECRET_KEY")  # the key is not echoed


@pytest.mark.parametrize("key", LIVE_KEYS)
@pytest.mark.parametrize("base", [None, "https://api.stripe.com", "https://api.stripe.com/"])
def test_a_live_key_may_go_to_stripe_itself(key, base):
    settings = load_settings(stripe_secret_key=key, stripe_webhook_secret="whsec_1", stripe_api_base=base)
    assert settings.uses_real_stripe


def test_a_test_key_may_go_to_the_sandbox():
    settings = load_settings(
        stripe_secret_key="sk_test_1", stripe_webhook_secret="whsec_1", stripe_api_base="http://127.0.0.1:12111"
    )
    assert not settings.uses_real_stripe


def test_the_service_refuses_to_start_with_a_live_key_and_the_sandbox(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TABLEPAY_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": "sk_live_51Hrestaurant0000secret",
        "STRIPE_WEBHOOK_SECRET": "whsec_1",
        "STRIPE_API_BASE": "http://127.0.0.1:12111",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert "tablepay sync: configuration error:" in result.stderr
    message = [line for line in result.stderr.splitlines() if "live key" in line]
    assert len(message) == 1 and "STRIPE_SECRET_KEY" in message[0] and "STRIPE_API_BASE" in message[0]
    assert "0000secret" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "sync.sqlite").exists()  # refused before anything was created
