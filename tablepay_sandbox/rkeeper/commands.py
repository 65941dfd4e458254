"""Dispatch: run a parsed query's commands and build the `<RK7QueryResult>` document.

Each command runs in its own SQLite transaction; an RKError rolls it back and
becomes Status/ErrorText/RK7ErrorN. Command names are case-sensitive [V].
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from . import order_commands, pay_commands, refs
from .context import Ctx, Result
from .errors import OK, RKError, bad_params
from .options import RKeeperOptions
from .xmlio import Element, Query, command_result, result_root

Handler = Callable[[Ctx, Element], Result]

COMMANDS: dict[str, Handler] = {
    "GetSystemInfo": refs.get_system_info,
    "GetRefData": refs.get_ref_data,
    "GetOrderMenu": refs.get_order_menu,
    "CreateOrder": order_commands.create_order,
    "GetOrder": order_commands.get_order,
    "GetOrderList": order_commands.get_order_list,
    "SaveOrder": order_commands.save_order,
    "PayOrder": pay_commands.pay_order,
    "CloseVisit": pay_commands.close_visit,
}


def command_name(cmd: Element) -> str:
    return cmd.get("CMD", "")


def run_one(ctx: Ctx, cmd: Element) -> Result | RKError:
    name = command_name(cmd)
    handler = COMMANDS.get(name)
    if handler is None:
        return bad_params(f"Unknown command {name}")
    # <LicenseInfo> (subscription licensing) is accepted and ignored: nothing here checks licences.
    try:
        with ctx.store.transaction():
            return handler(ctx, cmd)
    except RKError as exc:
        return exc


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


def execute(query: Query, ctx: Ctx, arrival: datetime, started: float) -> Element:
    options = ctx.options
    if not query.batch:
        cmd = query.commands[0]
        outcome = run_one(ctx, cmd)
        return _root(options, command_name(cmd), outcome, arrival, started)
    root = result_root(
        options,
        status=OK,
        cmd="",
        error_text="",
        number=None,
        arrival=arrival,
        now=datetime.now(),
        work_ms=0,
        processed=0,
    )
    processed = 0
    for cmd in query.commands:
        one_started = time.monotonic()
        outcome = run_one(ctx, cmd)
        if isinstance(outcome, RKError):
            wrapped = command_result(
                cmd=command_name(cmd),
                status=outcome.status,
                error_text=outcome.text,
                number=outcome.number,
                now=datetime.now(),
                work_ms=_ms(one_started),
            )
        else:
            processed += 1
            wrapped = command_result(
                cmd=command_name(cmd),
                status=outcome.status,
                error_text="",
                number=None,
                now=datetime.now(),
                work_ms=_ms(one_started),
            )
            wrapped.attrib.update({k: str(v) for k, v in outcome.attrs.items()})
            wrapped.extend(outcome.children)
        root.append(wrapped)
    root.set("Processed", str(processed))
    root.set("WorkTime", str(_ms(started)))
    return root


def error_root(options: RKeeperOptions, error: RKError, arrival: datetime, started: float, cmd: str = "") -> Element:
    return _root(options, cmd, error, arrival, started)


def _root(options: RKeeperOptions, cmd: str, outcome: Result | RKError, arrival: datetime, started: float) -> Element:
    if isinstance(outcome, RKError):
        return result_root(
            options,
            status=outcome.status,
            cmd=cmd,
            error_text=outcome.text,
            number=outcome.number,
            arrival=arrival,
            now=datetime.now(),
            work_ms=_ms(started),
            processed=0,
        )
    root = result_root(
        options,
        status=outcome.status,
        cmd=cmd,
        error_text="",
        number=None,
        arrival=arrival,
        now=datetime.now(),
        work_ms=_ms(started),
        processed=1,
    )
    root.attrib.update({k: str(v) for k, v in outcome.attrs.items()})
    root.extend(outcome.children)
    return root
