"""`tablepay kiosk pair` and `set-settings-pin` against a real sync service on 127.0.0.1."""

from __future__ import annotations

import io
import json

from pos_app.pin import verify_pin
from pos_app.secrets import load_pairing
from pos_app.settings import SETTINGS_FILE, load_settings
from tablepay.cli import main
from tests.support.harness import Harness
from tests.support.live_server import refused_url


def test_pair_learns_the_kiosk_id_from_the_service(harness: Harness, tmp_path, capsys):
    directory = tmp_path / "k"
    assert main(["kiosk", "--data-dir", str(directory), "pair", harness.service.url + "/", harness.token]) == 0
    assert "Kiosk 'kiosk-1' paired" in capsys.readouterr().out
    assert load_settings(directory).kiosk_id == "kiosk-1"
    assert load_pairing(directory).service_url == harness.service.url


def test_pair_with_a_matching_kiosk_id_override(harness: Harness, tmp_path):
    directory = tmp_path / "k"
    assert (
        main(
            ["kiosk", "--data-dir", str(directory), "pair", harness.service.url, harness.token, "--kiosk-id", "kiosk-1"]
        )
        == 0
    )


def test_pair_refuses_a_kiosk_id_that_does_not_match_the_token(harness: Harness, tmp_path, capsys):
    directory = tmp_path / "k"
    assert (
        main(["kiosk", "--data-dir", str(directory), "pair", harness.service.url, harness.token, "--kiosk-id", "bar-2"])
        == 2
    )
    assert "belongs to kiosk 'kiosk-1', not 'bar-2'" in capsys.readouterr().err
    assert load_pairing(directory) is None and not (directory / SETTINGS_FILE).exists()


def test_pair_with_a_refused_token_stores_nothing(harness: Harness, tmp_path, capsys):
    directory = tmp_path / "k"
    assert main(["kiosk", "--data-dir", str(directory), "pair", harness.service.url, "tp_wrong"]) == 2
    err = capsys.readouterr().err
    assert "refused this token (401)" in err and "tablepay sync add-kiosk" in err
    assert load_pairing(directory) is None


def test_pair_with_the_service_unreachable_says_so(tmp_path, capsys):
    directory = tmp_path / "k"
    with refused_url() as url:  # nothing listens there
        assert main(["kiosk", "--data-dir", str(directory), "pair", url, "tp_token", "--timeout", "2"]) == 2
    assert f"cannot reach the sync service at {url}" in capsys.readouterr().err
    assert load_pairing(directory) is None


def test_set_settings_pin_stores_only_a_salted_hash(tmp_path, monkeypatch, capsys):
    directory = tmp_path / "k"
    monkeypatch.setattr("sys.stdin", io.StringIO("86420\n"))
    assert main(["kiosk", "--data-dir", str(directory), "set-settings-pin"]) == 0
    text = (directory / SETTINGS_FILE).read_text()
    assert "86420" not in text
    first = json.loads(text)["settings_pin_hash"]
    assert verify_pin("86420", first) and not verify_pin("86421", first)
    monkeypatch.setattr("sys.stdin", io.StringIO("86420\n"))
    assert main(["kiosk", "--data-dir", str(directory), "set-settings-pin"]) == 0
    assert load_settings(directory).settings_pin_hash != first  # a new salt each time
    monkeypatch.setattr("sys.stdin", io.StringIO("12ab\n"))
    assert main(["kiosk", "--data-dir", str(directory), "set-settings-pin"]) == 2
    assert "4 to 8 digits" in capsys.readouterr().err
    assert main(["kiosk", "--data-dir", str(directory), "set-settings-pin", "--remove"]) == 0
    assert load_settings(directory).settings_pin_hash == ""


def test_set_manager_pin_is_separate_from_the_settings_pin(tmp_path, monkeypatch):
    directory = tmp_path / "k"
    monkeypatch.setattr("sys.stdin", io.StringIO("97531\n"))
    assert main(["kiosk", "--data-dir", str(directory), "set-manager-pin"]) == 0
    settings = load_settings(directory)
    assert verify_pin("97531", settings.manager_pin_hash) and settings.settings_pin_hash == ""
    assert "97531" not in (directory / SETTINGS_FILE).read_text()
    assert main(["kiosk", "--data-dir", str(directory), "set-manager-pin", "--remove"]) == 0
    assert load_settings(directory).manager_pin_hash == ""
