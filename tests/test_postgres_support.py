"""The throwaway PostgreSQL itself (tests/support/postgres.py): fresh databases, loopback only, and a cluster that is
stopped and removed however the session ends. The start/stop tests use private clusters, never the session's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.support import postgres
from tests.support.processes import ROOT, unused_port
from tests.support.waiting import eventually


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return [row[0] for row in rows]


def _one(conn: psycopg.Connection[tuple[Any, ...]], query: str) -> tuple[Any, ...]:
    row = conn.execute(query).fetchone()
    assert row is not None, query
    return row


def _databases(server_url: str) -> set[str]:
    with psycopg.connect(server_url) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}


_alive = postgres._process_alive


def _refused(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError:
        return True
    return False


def test_psycopg_connects_to_a_recent_enough_server(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        version, database = _one(conn, "SELECT current_setting('server_version_num')::int, current_database()")
    assert version >= 130000, "DROP DATABASE ... WITH (FORCE) needs PostgreSQL 13"
    assert database.startswith("tp_")
    assert postgres_url.endswith(f"/{database}")


_seen: list[str] = []


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_gets_an_empty_database_of_its_own(postgres_server: str, postgres_url: str, turn: str) -> None:
    assert _tables(postgres_url) == []
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE marker (turn text)")
        conn.execute("INSERT INTO marker VALUES (%s)", (turn,))
        database = _one(conn, "SELECT current_database()")[0]
    assert database not in _seen
    # the earlier turn's database, with its marker table, is gone
    assert not _databases(postgres_server) & set(_seen)
    _seen.append(database)


def test_two_fresh_databases_at_once_are_apart(postgres_server: str) -> None:
    with postgres.fresh_database(postgres_server) as one, postgres.fresh_database(postgres_server) as two:
        assert one != two
        with psycopg.connect(one) as conn:
            conn.execute("CREATE TABLE only_in_one (id int)")
        assert _tables(one) == ["public.only_in_one"]
        assert _tables(two) == []
        names = {urlsplit(one).path.lstrip("/"), urlsplit(two).path.lstrip("/")}
        assert names <= _databases(postgres_server)
    assert not names & _databases(postgres_server)


def test_a_fresh_database_is_dropped_even_while_a_session_holds_it(postgres_server: str) -> None:
    with postgres.fresh_database(postgres_server) as url:
        held = psycopg.connect(url)
        name = _one(held, "SELECT current_database()")[0]
    try:
        assert name not in _databases(postgres_server)
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
    finally:
        held.close()


def _listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port`, from the kernel's tables (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:  # no IPv6 here
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: TCP_LISTEN
                if len(address) == 8:  # IPv4, little-endian hex
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    found.add(f"ipv6:{address}")
    return found


def test_the_session_server_listens_on_127_0_0_1_only(postgres_server: str) -> None:
    if os.environ.get(postgres.URL_VARIABLE):
        pytest.skip(f"{postgres.URL_VARIABLE}'s server is not ours to judge")
    with psycopg.connect(postgres_server) as conn:
        assert _one(conn, "SHOW listen_addresses")[0] == "127.0.0.1"
    port = urlsplit(postgres_server).port
    assert port is not None
    assert port != 5432, "never Debian's cluster's port"
    assert _listening_addresses(port) == {"127.0.0.1"}


@pytest.mark.postgres
def test_a_private_cluster_starts_and_is_gone_after_stop() -> None:
    postgres.require_binaries()
    cluster = postgres.start_cluster()
    try:
        pid = cluster.pid()
        assert pid is not None and _alive(pid)
        assert cluster.directory.is_dir()
        if os.geteuid() == 0:
            assert cluster.data.owner() == postgres.SYSTEM_USER
        with psycopg.connect(cluster.url) as conn:
            assert _one(conn, "SELECT current_user")[0] == postgres.USER
    finally:
        postgres.stop_cluster(cluster)
    assert not cluster.directory.exists()
    eventually(lambda: not _alive(pid), message=f"postmaster {pid} to exit")
    assert _refused(cluster.url)
    postgres.stop_cluster(cluster)  # twice is harmless


@pytest.mark.postgres
def test_a_taken_port_is_retried_on_the_next() -> None:
    postgres.require_binaries()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        free = unused_port()
        cluster = postgres.start_cluster(ports=[busy, free])
        try:
            assert cluster.port == free
            assert not _refused(cluster.url)
        finally:
            postgres.stop_cluster(cluster)


def _child_env(tmp_path: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != postgres.URL_VARIABLE}
    env["PYTHONPATH"] = str(ROOT)
    env["TABLEPAY_TEST_RECORD"] = str(tmp_path / "cluster.json")
    return env


def _assert_gone(record: Path) -> None:
    seen = json.loads(record.read_text())
    assert not Path(seen["directory"]).exists(), seen
    eventually(lambda: not _alive(seen["pid"]), message=f"postmaster {seen['pid']} to exit")


@pytest.mark.postgres
def test_the_session_cluster_is_stopped_and_removed_when_tests_fail(tmp_path: Path) -> None:
    """A pytest session of its own, using the real fixtures, whose one test fails: its cluster is gone afterwards."""
    postgres.require_binaries()
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    postgres: needs PostgreSQL\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import postgres_server, postgres_url, pytest_collection_modifyitems\n"
    )
    (tmp_path / "test_failing.py").write_text(
        textwrap.dedent(
            """
            import json, os
            from pathlib import Path
            import psycopg

            def test_fails(postgres_url):
                with psycopg.connect(postgres_url) as conn:
                    directory = conn.execute("SHOW data_directory").fetchone()[0]
                pid = int((Path(directory) / "postmaster.pid").read_text().split()[0])
                Path(os.environ["TABLEPAY_TEST_RECORD"]).write_text(
                    json.dumps({"directory": str(Path(directory).parent), "pid": pid})
                )
                assert False, "failing on purpose"
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-c", str(tmp_path / "pytest.ini"), "."],
        cwd=tmp_path,
        env=_child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failing on purpose" in run.stdout
    _assert_gone(tmp_path / "cluster.json")


@pytest.mark.postgres
def test_a_cluster_left_running_is_stopped_at_interpreter_exit(tmp_path: Path) -> None:
    postgres.require_binaries()
    script = textwrap.dedent(
        """
        import json, os, sys
        from pathlib import Path
        from tests.support import postgres

        cluster = postgres.start_cluster()
        Path(os.environ["TABLEPAY_TEST_RECORD"]).write_text(
            json.dumps({"directory": str(cluster.directory), "pid": cluster.pid()})
        )
        sys.exit(3)  # without stop_cluster
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=_child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 3, run.stdout + run.stderr
    _assert_gone(tmp_path / "cluster.json")


@pytest.mark.parametrize("ci", ["", "true"])
def test_without_postgresql_the_tests_skip_except_in_ci(tmp_path: Path, ci: str) -> None:
    """No initdb anywhere and no TABLEPAY_TEST_DATABASE_URL: a skip that says what to install; a failure in CI."""
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    postgres: needs PostgreSQL\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "conftest.py").write_text(
        "from tests.support import postgres\n"
        "from tests.conftest import postgres_server, postgres_url\n"
        "postgres.find_binaries = lambda: None  # as on a machine without the package\n"
    )
    (tmp_path / "test_needs_postgres.py").write_text("def test_needs(postgres_url):\n    pass\n")
    env = _child_env(tmp_path) | {"CI": ci}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-c", str(tmp_path / "pytest.ini"), "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert "PostgreSQL is not installed (sudo apt-get install postgresql, or set TABLEPAY_TEST_DATABASE_URL)" in output
    if ci:
        assert run.returncode == 1, output
        assert "1 error" in output, output
    else:
        assert run.returncode == 0, output
        assert "1 skipped" in output, output


@pytest.mark.postgres
def test_a_cluster_whose_session_was_killed_is_reaped_by_the_next(tmp_path: Path) -> None:
    """SIGKILL leaves no chance for teardown or atexit: the next session stops that server and removes its files."""
    postgres.require_binaries()
    # A parent of its own, so no other session's cluster is in sight; in /tmp, since as root the postgres user must
    # reach it (pytest's tmp_path is root's alone).
    parent = Path(tempfile.mkdtemp(prefix="tablepay-reap-test-"))
    parent.chmod(0o755)
    script = textwrap.dedent(
        f"""
        import json, os, signal
        from pathlib import Path
        from tests.support import postgres

        cluster = postgres.start_cluster(parent=Path({str(parent)!r}))
        Path(os.environ["TABLEPAY_TEST_RECORD"]).write_text(
            json.dumps({{"directory": str(cluster.directory), "pid": cluster.pid()}})
        )
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    try:
        run = subprocess.run([sys.executable, "-c", script], env=_child_env(tmp_path), timeout=120, check=False)
        assert run.returncode == -signal.SIGKILL
        seen = json.loads((tmp_path / "cluster.json").read_text())
        assert _alive(seen["pid"]), "the orphaned server still runs"
        assert postgres.reap_orphans(parent=parent) == [Path(seen["directory"])]
        _assert_gone(tmp_path / "cluster.json")
    finally:
        postgres.reap_orphans(parent=parent)
        shutil.rmtree(parent, ignore_errors=True)
