"""A throwaway PostgreSQL for the tests: initdb + pg_ctl in a temporary directory on a free loopback port.

The cluster belongs to the test session alone: its own directory (data, Unix socket, log), port and settings for
speed over durability (fsync, synchronous_commit and full_page_writes off). Debian's own cluster (/etc/postgresql,
port 5432) is never used, started or stopped. As root, initdb and pg_ctl run as the `postgres` user (both refuse
root), so the directory is handed to that user first.

`TABLEPAY_TEST_DATABASE_URL` names an existing server instead (a CI service container, a developer's own); then
nothing is started. Each test gets a fresh, empty database (`fresh_database`), dropped afterwards.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from .processes import unused_port

URL_VARIABLE = "TABLEPAY_TEST_DATABASE_URL"
USER = "tablepay"
NOT_INSTALLED = (
    f"PostgreSQL is not installed (sudo apt-get install postgresql, or set {URL_VARIABLE}): "
    "the PostgreSQL tests are skipped"
)
# initdb and pg_ctl refuse to run as root; Debian's package creates this user.
SYSTEM_USER = "postgres"
START_ATTEMPTS = 5
PREFIX = "tablepay-pg-"
OWNER_FILE = "owner.pid"  # the pid of the process that started the cluster, for reap_orphans
# Every start, whatever its port: pg_ctl -o takes them as one string, split by the server like a command line.
SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
)


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/<version>/bin, else PATH's."""
    versions = [
        (int(bin_dir.parent.name), bin_dir)
        for bin_dir in Path("/usr/lib/postgresql").glob("*/bin")
        if bin_dir.parent.name.isdigit() and (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file()
    ]
    if versions:
        return max(versions)[1]
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl", path=str(Path(initdb).parent)):
        return Path(initdb).parent
    return None


@dataclass
class Cluster:
    """A running throwaway cluster; `stop_cluster` ends it and removes its directory."""

    directory: Path
    port: int
    bin_dir: Path
    run_as: str | None  # the system user initdb and pg_ctl run as (root's case), None: as ourselves
    stopped: bool = False

    @property
    def data(self) -> Path:
        return self.directory / "db"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def pid(self) -> int | None:
        """The postmaster's pid (line 1 of postmaster.pid), or None when the server is not running."""
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output and the tail of the server's log."""


def _run(cluster: Cluster, *argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    command = [str(cluster.bin_dir / argv[0]), *argv[1:]]
    if cluster.run_as:
        command = ["runuser", "-u", cluster.run_as, "--", *command]
    # PG* variables (PGDATA, PGPORT, PGHOST...) from the caller's shell must not steer our cluster.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    return subprocess.run(  # the cwd: a directory the postgres user may enter
        command, cwd=cluster.directory, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _failure(cluster: Cluster, what: str, result: subprocess.CompletedProcess[str]) -> ClusterError:
    try:
        log = "\n".join(cluster.log.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        log = "(no server log)"
    return ClusterError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}\nserver log:\n{log}")


def _log_size(cluster: Cluster) -> int:
    try:
        return cluster.log.stat().st_size
    except OSError:
        return 0


def _could_not_bind(cluster: Cluster, since: int) -> bool:
    """Whether the start that wrote the log from offset `since` on (pg_ctl -l appends) failed for its port."""
    try:
        with cluster.log.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
    except OSError:
        return False
    return "could not bind" in text or "could not create any TCP/IP sockets" in text


def _free_ports() -> Iterator[int]:
    while True:
        yield unused_port()


_running: list[Cluster] = []


def start_cluster(
    ports: Iterable[int] | None = None, *, parent: Path | None = None, settings: Sequence[str] = SERVER_SETTINGS
) -> Cluster:
    """initdb a new cluster in a fresh temporary directory and start it on a free port of 127.0.0.1.

    A free port cannot be reserved for another process, so the server is simply tried on one that was free a moment
    ago, and on the next when it could not bind (someone took it meanwhile): up to START_ATTEMPTS ports from `ports`
    (by default, a fresh free one each time). Never a fixed port. The cluster is also stopped at interpreter exit,
    should the caller's own cleanup never run. Its directory is made in `parent` (default: the system's temporary
    directory), which as root the postgres user must be able to enter. `settings`: the server's options (default: the
    tests' fast, non-durable ones; bench/engines.py starts a durable one, as a production server runs).
    """
    bin_dir = find_binaries()
    if bin_dir is None:
        raise ClusterError(NOT_INSTALLED)
    run_as = SYSTEM_USER if os.geteuid() == 0 else None
    # Short and in /tmp: the Unix socket's path (<dir>/db/.s.PGSQL.<port>) must stay under 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    if run_as:
        shutil.chown(directory, user=run_as, group=None)
    (directory / OWNER_FILE).write_text(str(os.getpid()))
    cluster = Cluster(directory=directory, port=0, bin_dir=bin_dir, run_as=run_as)
    _running.append(cluster)
    try:
        initdb = _run(
            cluster,
            "initdb",
            *("-D", str(cluster.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
            timeout=120,
        )
        if initdb.returncode != 0:
            raise _failure(cluster, "initdb", initdb)
        candidates = iter(_free_ports() if ports is None else ports)
        tried: list[int] = []
        for _attempt in range(START_ATTEMPTS):
            port = next(candidates, None)
            if port is None:
                break
            tried.append(port)
            cluster.port = port
            options = " ".join((*settings, f"-p {port}", f"-k {cluster.data}"))
            log_start = _log_size(cluster)
            start = _run(
                cluster,
                *("pg_ctl", "-D", str(cluster.data), "-l", str(cluster.log), "-w", "-t", "30", "-o", options),
                "start",
                timeout=60,
            )
            if start.returncode == 0:
                return cluster
            if not _could_not_bind(cluster, log_start):
                raise _failure(cluster, "pg_ctl start", start)
        raise ClusterError(f"pg_ctl start: could not bind any of the ports tried ({tried})")
    except BaseException:
        stop_cluster(cluster)
        raise


def stop_cluster(cluster: Cluster) -> None:
    """Stop the server (fast shutdown: open sessions are ended) and remove the cluster's directory. Idempotent."""
    if cluster in _running:
        _running.remove(cluster)
    if cluster.stopped:
        return
    cluster.stopped = True
    try:
        if cluster.pid() is not None:
            stop = _run(cluster, "pg_ctl", "-D", str(cluster.data), "-m", "fast", "-w", "-t", "30", "stop", timeout=60)
            if stop.returncode != 0 and cluster.pid() is not None:
                _run(cluster, "pg_ctl", "-D", str(cluster.data), "-m", "immediate", "-w", "stop", timeout=60)
    finally:
        shutil.rmtree(cluster.directory, ignore_errors=True)


@atexit.register
def _stop_leftovers() -> None:
    # A session whose fixture teardown never ran (an internal error, a Ctrl-C at the wrong moment) leaves no server.
    while _running:
        stop_cluster(_running[-1])


def _process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended, only not been reaped yet


def reap_orphans(parent: Path | None = None) -> list[Path]:
    """Stop and remove the clusters whose starting process is gone (a session killed with SIGKILL, where neither
    teardown nor atexit ran), so their servers do not outlive it by more than one session. Returns their directories.
    A cluster whose owner still runs, another session's, is left alone."""
    reaped = []
    bin_dir = find_binaries()
    for directory in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if bin_dir is None or _process_alive(owner):
            continue
        run_as = SYSTEM_USER if os.geteuid() == 0 else None
        stop_cluster(Cluster(directory=directory, port=0, bin_dir=bin_dir, run_as=run_as))
        reaped.append(directory)
    return reaped


def _unavailable(reason: str) -> None:
    """Skip: PostgreSQL is optional on a developer's machine. Under CI=true fail, since CI installs it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: scripts/setup installs postgresql when root)", pytrace=False)
    pytest.skip(reason)


def require_binaries() -> Path:
    """initdb's directory, or skip (fail under CI) the calling test. With TABLEPAY_TEST_DATABASE_URL set the missing
    binaries are a choice (scripts/setup then installs none), so the throwaway cluster's own tests skip, even in CI."""
    bin_dir = find_binaries()
    if bin_dir is None and os.environ.get(URL_VARIABLE):
        pytest.skip(f"initdb is not installed and {URL_VARIABLE} names the server: no throwaway cluster to test")
    if bin_dir is None:
        _unavailable(NOT_INSTALLED)
    assert bin_dir is not None
    return bin_dir


@contextmanager
def session_server() -> Iterator[str]:
    """The base URL of the session's server (database `postgres`): TABLEPAY_TEST_DATABASE_URL's, or a throwaway
    cluster started here and stopped, its directory removed, when the block ends however it ends."""
    external = os.environ.get(URL_VARIABLE)
    if external:
        try:
            psycopg.connect(external, connect_timeout=10).close()
        except psycopg.Error as exc:  # named on purpose: a wrong URL fails, it never skips
            pytest.fail(f"{URL_VARIABLE} is set but its server cannot be reached: {exc}", pytrace=False)
        yield external
        return
    require_binaries()
    reap_orphans()
    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        stop_cluster(cluster)


def with_database(url: str, name: str) -> str:
    """`url` (postgresql://…/<db>?…) pointing at database `name` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on `server_url`'s server (copied from template0), yielded as its URL, then dropped
    with every session still connected to it (WITH (FORCE), PostgreSQL 13 or later)."""
    name = f"tp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
