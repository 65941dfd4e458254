import os
from collections.abc import Iterator

import pytest

# Imports neither Qt nor keyring (psycopg, httpx and the standard library), so it may come before the lines below.
from tests.support import postgres

# Before anything imports Qt or keyring: headless and no system keychain.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
os.environ.setdefault("LANG", "C.UTF-8")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The session's PostgreSQL as a base URL, `postgresql://tablepay@127.0.0.1:PORT/postgres`.

    A throwaway cluster (tests/support/postgres.py) started on first use and stopped, its directory removed, at the
    end of the session, or TABLEPAY_TEST_DATABASE_URL's server, untouched. Without either the test is skipped; under
    CI=true it fails instead.
    """
    with postgres.session_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database of the test's own on the session's server, as a URL; dropped after the test."""
    with postgres.fresh_database(postgres_server) as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `-m postgres` / `-m "not postgres"` select exactly the tests that need the server, marked or not.
    for item in items:
        on_postgres = getattr(getattr(item, "callspec", None), "params", {}).get("database_url") == "postgres"
        if on_postgres or "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


ENGINES = ("sqlite", "postgres")


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each storage engine in turn: None (SQLite in the harness's data dir) or a fresh PostgreSQL database.

    A test that takes it runs once per engine (`running_harness(..., database_url=database_url)`)."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))
