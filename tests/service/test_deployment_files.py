"""resources/tablepay-sync.example.toml, resources/tablepay-sync.service and the template unit for
several instances (tablepay-sync@.service): they load, they cover every setting, and each unit runs a
command that exists with the hardening it promises, the template with exactly the single unit's."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from sync_service.settings import Settings, load_settings
from tablepay.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "tablepay-sync.example.toml"
UNIT = ROOT / "resources" / "tablepay-sync.service"
TEMPLATE = ROOT / "resources" / "tablepay-sync@.service"
SECRETS = {"STRIPE_SECRET_KEY": "sk_test_example", "STRIPE_WEBHOOK_SECRET": "whsec_example"}


@pytest.fixture
def env(monkeypatch):
    for name in ("STRIPE_API_BASE", "TABLEPAY_DATA_DIR", "TABLEPAY_PUBLIC_URL", "RKEEPER_URL", "TABLEPAY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_the_example_loads_once_the_secrets_are_filled_in(env):
    env.setenv("TABLEPAY_CONFIG", str(EXAMPLE))
    settings = load_settings()
    assert settings.data_dir == Path("/var/lib/tablepay") and settings.public_url == "https://pay.example.com"
    assert settings.stripe_api_base is None and not settings.pos_enabled  # the real Stripe, no POS until set


def test_every_setting_is_in_the_example_and_every_commented_one_is_valid(env, tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8")
    # `#key = value` lines are settings left at their default: uncommented, they must still load.
    uncommented = re.sub(r"(?m)^#(?=[a-z_]+ = )", "", text)
    keys = set(tomllib.loads(uncommented))
    assert keys == set(Settings.model_fields), "settings missing from (or unknown in) the example"
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M))
    mentioned = set(re.findall(r"\b([A-Z][A-Z_]{5,})\b", text))
    assert documented - {"TABLEPAY_CONFIG"} <= mentioned
    full = tmp_path / "full.toml"
    full.write_text(uncommented, encoding="utf-8")
    for name in SECRETS:
        env.delenv(name)  # from the file this time
    env.setenv("TABLEPAY_CONFIG", str(full))
    settings = load_settings()
    assert settings.pos_enabled and settings.rkeeper_tables == "Bar 1=101, Terrace 1=201"
    assert settings.stripe_api_base == "http://127.0.0.1:12111" and settings.donation_account == "acct_..."


def read_unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    unit.read(path)
    return unit


# What the template may set differently from the single unit: its port, and that it writes nowhere.
TEMPLATE_DIFFERS_IN = {"ExecStart", "StateDirectory", "StateDirectoryMode", "ReadWritePaths"}


@pytest.mark.parametrize(("path", "instance"), [(UNIT, None), (TEMPLATE, "8788")], ids=["single", "template"])
def test_the_unit_runs_the_sync_service_hardened(path, instance):
    unit = read_unit(path)
    service = unit["Service"]
    exec_start = service["ExecStart"]
    if instance is not None:  # systemd puts the instance name (tablepay-sync@8788) where %i is
        assert "--port %i" in exec_start
        exec_start = exec_start.replace("%i", instance)
    command = shlex.split(exec_start)
    assert command[0].endswith("/bin/tablepay")
    args = build_parser().parse_args(command[1:])
    assert args.command == "sync" and args.sync_command is None and args.host == "127.0.0.1"
    assert args.port == int(instance or 8787)
    assert service["User"] == "tablepay" and service["Restart"] == "on-failure"
    assert int(service["LimitNOFILE"]) >= 65536  # connections cannot starve the database of descriptors
    assert service["EnvironmentFile"] == "/etc/tablepay/sync.env"
    assert "TABLEPAY_CONFIG=/etc/tablepay/sync.toml" in path.read_text()
    for option, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
    }.items():
        assert service[option] == value
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_single_unit_writes_only_the_data_dir():
    service = read_unit(UNIT)["Service"]
    data_dir = tomllib.loads(EXAMPLE.read_text())["data_dir"]
    assert service["ReadWritePaths"] == data_dir == f"/var/lib/{service['StateDirectory']}"


def test_the_template_is_the_single_unit_but_for_its_port_and_writes_nothing():
    single, template = read_unit(UNIT)["Service"], read_unit(TEMPLATE)["Service"]
    # Every hardening line, the user, the limits and the environment are the single unit's.
    assert {k: v for k, v in template.items() if k not in TEMPLATE_DIFFERS_IN} == {
        k: v for k, v in single.items() if k not in TEMPLATE_DIFFERS_IN
    }
    # On PostgreSQL nothing is kept on the machine: no writable path, so an instance without
    # TABLEPAY_DATABASE_URL cannot quietly start a SQLite file of its own.
    assert not (TEMPLATE_DIFFERS_IN - {"ExecStart"}) & set(template)
    assert template["ExecStart"] == single["ExecStart"].replace("--port 8787", "--port %i")
