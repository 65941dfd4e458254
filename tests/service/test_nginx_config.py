"""resources/nginx-tablepay-chain.conf: it parses, it sends every path to the instances of the
template unit, long polls survive it, and the Internet sees only the webhooks and the guest pages.

The structure is read by a small tokenizer of nginx's grammar (directives, blocks, quotes, comments),
so these checks run without nginx; where nginx is installed, `nginx -t` checks the file for real.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync_service.api.feed_fast_path import MAX_WAIT

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "resources" / "nginx-tablepay-chain.conf"
TEMPLATE = ROOT / "resources" / "tablepay-sync@.service"
TOKEN = re.compile(r"""\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};"'#]+""")


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def one(self, name: str) -> Directive:
        found = self.all(name)
        assert len(found) == 1, f"{self.name} {self.args}: {len(found)} {name!r} directives"
        return found[0]


def parse(text: str) -> list[Directive]:
    """nginx's grammar: `name args... ;` or `name args... { ... }`; raises on what nginx would refuse."""
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for match in TOKEN.finditer(text):
        token = match.group()
        if token.isspace() or token.startswith("#"):
            continue
        if token in ";{":
            assert words, f"an empty directive before {token!r} at {match.start()}"
            directive = Directive(words[0], words[1:], [] if token == "{" else None)
            stack[-1].append(directive)
            if directive.block is not None:
                stack.append(directive.block)
            words = []
        elif token == "}":
            assert not words, f"{words} has no ';' before '}}' at {match.start()}"
            assert len(stack) > 1, f"an unmatched '}}' at {match.start()}"
            stack.pop()
        else:
            words.append(token.strip("\"'"))
    assert not words and len(stack) == 1, "the file ends inside a directive or a block"
    return stack[0]


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)?", value)
    assert match, f"{value!r} is not an nginx time"
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[match[2]]


@pytest.fixture(scope="module")
def conf() -> Directive:
    return Directive("http", [], parse(CONF.read_text(encoding="utf-8")))


def servers(conf: Directive) -> dict[str, Directive]:
    """The server blocks by side: `public` (listens on 443) and `kiosks`."""
    found = {}
    for server in conf.all("server"):
        ports = {d.args[0].rsplit(":", 1)[-1] for d in server.all("listen")}
        found["public" if ports == {"443"} else "kiosks"] = server
    assert set(found) == {"public", "kiosks"}
    return found


def locations(server: Directive) -> dict[str, Directive]:
    return {" ".join(d.args): d for d in server.all("location")}


def test_the_tokenizer_refuses_what_nginx_refuses():
    for broken in ("server { listen 80 }", "server { listen 80; ", "listen 80; }", "upstream a { server b }"):
        with pytest.raises(AssertionError):
            parse(broken)
    assert parse('a "b c" {d;} # e\n')[0].args == ["b c"]


def test_the_upstream_is_the_template_units_instances(conf):
    upstream = conf.one("upstream")
    addresses = [d.args[0] for d in upstream.all("server")]
    # The install line in the template unit's header enables one tablepay-sync@PORT per instance.
    install = re.search(r"enable --now ((?:tablepay-sync@\d+ ?)+)", TEMPLATE.read_text())
    assert install, "the template unit's header shows no `systemctl enable --now tablepay-sync@PORT ...`"
    enabled = re.findall(r"@(\d+)", install[1])
    assert addresses == [f"127.0.0.1:{port}" for port in enabled] and len(addresses) >= 2
    assert all("max_fails=3" in d.args and "fail_timeout=10s" in d.args for d in upstream.all("server"))
    assert seconds(upstream.one("keepalive_timeout").args[0]) < 5  # below TABLEPAY_KEEP_ALIVE_TIMEOUT


def test_every_path_goes_to_the_instances_and_the_internet_sees_only_webhooks_and_guest_pages(conf):
    upstream = conf.one("upstream").args[0]
    public, kiosks = servers(conf)["public"], servers(conf)["kiosks"]
    assert set(locations(public)) == {"= /webhooks/stripe", "= /webhooks/mollie", "/pay/", "/"}
    for server in (public, kiosks):
        for path, location in locations(server).items():
            if path == "/":
                assert location.one("return").args == ["404"]
            else:
                assert location.one("proxy_pass").args == [f"http://{upstream}"], path
        # A POST an instance has received is never sent to a second one: the provider retries instead.
        assert "non_idempotent" not in server.one("proxy_next_upstream").args
        headers = {d.args[0]: d.args[1] for d in server.all("proxy_set_header")}
        assert headers["X-Forwarded-For"] == "$remote_addr" and headers["Connection"] == ""
    assert {"/v1/", "= /v1/events", "= /healthz"} <= set(locations(kiosks))
    assert kiosks.one("deny").args == ["all"]


def test_long_polls_outlive_the_longest_wait_and_are_not_buffered(conf):
    kiosks = servers(conf)["kiosks"]
    events = locations(kiosks)["= /v1/events"]
    timeout = (events.all("proxy_read_timeout") or kiosks.all("proxy_read_timeout"))[0]
    assert seconds(timeout.args[0]) > MAX_WAIT  # the longest `wait` the service accepts
    assert events.one("proxy_buffering").args == ["off"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_nginx_accepts_it(tmp_path):
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not Path(nginx).exists() or openssl is None:
        pytest.skip("nginx (and openssl) not installed: only the structural checks above ran")
    certificate = "-x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=pay.example.com -days 1"
    subprocess.run(
        [openssl, "req", *certificate.split(), "-keyout", "key.pem", "-out", "cert.pem"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    site = CONF.read_text(encoding="utf-8")
    site = re.sub(r"ssl_certificate (\S+);", f"ssl_certificate {tmp_path}/cert.pem;", site)
    site = re.sub(r"ssl_certificate_key (\S+);", f"ssl_certificate_key {tmp_path}/key.pem;", site)
    # `nginx -t` binds every listen address: the example's LAN address and 443 become free loopback ports.
    site = re.sub(r"listen (\S+?)( ssl)?;", lambda m: f"listen 127.0.0.1:{_free_port()}{m.group(2) or ''};", site)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
