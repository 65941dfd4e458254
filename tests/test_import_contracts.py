"""The import-linter contracts in pyproject.toml really bite: an injected forbidden import breaks them.

Each case copies the packages into a temporary tree, adds one import that the layering forbids and
runs `lint-imports` there; the untouched copy passes, so each failure is the injected line's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tablepay", "tablepay_domain", "sync_service", "pos_app", "tablepay_sandbox")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def copy_tree(target: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for extra in ROOT.glob("tablepay_*"):  # packages added beside the listed ones (helpers)
        if extra.is_dir() and not (target / extra.name).exists():
            shutil.copytree(extra, target / extra.name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("contracts")
    copy_tree(base)
    return base


def test_the_untouched_tree_keeps_every_contract(tree: Path) -> None:
    done = lint(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sync_service/pos/rkeeper_xml.py", "import PySide6", "The sync service never imports Qt"),
        ("tablepay_domain/money.py", "import sqlite3", "The domain core does no I/O"),
        ("sync_service/storage/repository.py", "import sync_service.api.app", "Service layers"),
        ("sync_service/providers/base.py", "import sync_service.services.checkout", "Service layers"),
        ("pos_app/store/db.py", "import pos_app.viewmodels", "Kiosk layers"),
        ("pos_app/client.py", "import pos_app.views.main_window", "Kiosk layers"),
        ("pos_app/views/widgets.py", "import pos_app.client", "Kiosk views hold no SQL and no HTTP"),
        ("sync_service/models.py", "import tablepay_sandbox", "The sandbox is a peer"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, tmp_path: Path, module: str, line: str, contract: str
) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(tree, copy)
    path = copy / module
    path.write_text(path.read_text() + f"\n{line}  # injected by the test\n")
    done = lint(copy)
    assert done.returncode != 0, done.stdout
    broken = done.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, done.stdout
