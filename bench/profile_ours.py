"""Where does the sync service spend a webhook? py-spy on the server during first delivery.

    .venv/bin/pip install py-spy
    .venv/bin/python bench/profile_ours.py [--events 5000] [--phase first|replay]

Samples only the measured phase (warm-up excluded) with py-spy, which costs
the server almost nothing, and prints the share of busy samples per
function: self (the CPU is in that function) and inclusive (it is on the stack).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.loadgen import closed_loop  # noqa: E402
from bench.seed import SignedRequests, batch, seed_service  # noqa: E402
from bench.webhooks import load_row, running_server  # noqa: E402

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _name(frame: str) -> str:
    """'func (path/to/module.py:12)' -> 'module.py:func'; the line is dropped so a function is one row."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{Path(match['file']).name}:{match['func']}"


def summarize(collapsed: Path, top: int) -> None:
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";") if f]
        total += count
        if frames:
            self_time[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    print(f"\n{total} busy samples of the server's event-loop thread")
    for title, counter in (("self", self_time), ("inclusive", inclusive)):
        print(f"\n{title:>9}  function")
        for name, count in counter.most_common(top):
            print(f"{100 * count / total:8.1f}%  {name}")


async def _phase(
    port: int, warm: SignedRequests, measured: SignedRequests, replay: bool, pid: int, out: Path, rate: int
) -> dict[str, object]:
    await closed_loop(port, warm.sign(port), connections=16, time_limit=60)
    if replay:
        await closed_loop(port, measured.sign(port), connections=16, time_limit=120)
    spy = subprocess.Popen(
        [
            shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # py-spy attaches before the measured load starts
    result = await closed_loop(port, measured.sign(port), connections=16, time_limit=120)
    spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    _, err = spy.communicate(timeout=30)
    if spy.returncode not in (0, -signal.SIGINT) and not out.exists():
        raise RuntimeError(f"py-spy failed: {err.decode()[-500:]}")
    return load_row("ours", "replay" if replay else "first delivery", result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--phase", choices=["first", "replay"], default="first")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="also save py-spy's collapsed stacks here (flamegraph input)")
    args = parser.parse_args()
    secret = "whsec_bench_profile"
    measured, warm = batch("bench", args.events, "kiosk-bench"), batch("warm", 300, "kiosk-bench")
    with tempfile.TemporaryDirectory(prefix="tablepay-profile-") as tmp:
        work = Path(tmp)
        (work / "ours").mkdir()
        seed_service(work / "ours" / "sync.sqlite", [measured, warm], ["kiosk-bench"])
        out = work / "ours.collapsed"
        with running_server("ours", work / "ours", secret, work / "ours.log") as server:
            row = asyncio.run(
                _phase(
                    server.port,
                    SignedRequests(warm, secret),
                    SignedRequests(measured, secret),
                    args.phase == "replay",
                    server.pid,
                    out,
                    args.rate,
                )
            )
        print(
            f"{row['phase']}: {row['requests']} requests, {row['rps']:,} req/s under py-spy, "
            f"p99 {row['p99_ms']} ms, errors {row['errors']}"
        )
        summarize(out, args.top)
        if args.keep:
            shutil.copyfile(out, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
