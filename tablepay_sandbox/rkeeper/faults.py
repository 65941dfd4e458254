"""Faults a test can arm (`/_sandbox/rkeeper/faults`): failures, delays, dropped answers, order locks.

Kept in memory: a restart clears them, as a restarted cash server forgets who held a lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import RKError
from .xmlio import new_guid, norm_guid


class FaultSpecError(ValueError):
    pass


def _count(body: dict[str, Any], name: str) -> int:
    value = body.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FaultSpecError(f"{name} must be a non-negative integer")
    return value


def _guid(value: Any, name: str) -> str:
    try:
        return norm_guid(str(value), name)
    except RKError:
        raise FaultSpecError(f"{name} must be a GUID like {{6B1C2D3E-0000-4000-8000-00000000A101}}") from None


@dataclass
class Faults:
    fail_next: int = 0  # answer HTTP 503, apply nothing
    delay_next: int = 0  # apply, then answer after delay_seconds
    delay_seconds: float = 0.0
    drop_next: int = 0  # apply, then drop the connection mid-answer
    drop_commands: list[str] = field(default_factory=list)  # empty: any command
    locks: dict[str, str] = field(default_factory=dict)  # order guid -> lockguid

    def update(self, body: dict[str, Any]) -> None:
        """Apply a POST body; every key optional. Validates everything before changing anything."""
        changes: dict[str, Any] = {}
        if "fail_next" in body:
            changes["fail_next"] = _count(body, "fail_next")
        if "delay_next" in body:
            changes["delay_next"] = _count(body, "delay_next")
            seconds = body.get("delay_seconds", 1.0)
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 600:
                raise FaultSpecError("delay_seconds must be a number of seconds between 0 and 600")
            changes["delay_seconds"] = float(seconds)
        if "drop_next" in body:
            changes["drop_next"] = _count(body, "drop_next")
            commands = body.get("commands", [])
            if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
                raise FaultSpecError("commands must be a list of command names")
            changes["drop_commands"] = list(commands)
        lock = _guid(body["lock"], "lock") if "lock" in body else None
        lockguid = _guid(body["lockguid"], "lockguid") if body.get("lockguid") else new_guid()
        unlock = _guid(body["unlock"], "unlock") if "unlock" in body else None
        for name, value in changes.items():
            setattr(self, name, value)
        if lock:
            self.locks[lock] = lockguid
        if unlock:
            self.locks.pop(unlock, None)

    def take_fail(self) -> bool:
        if self.fail_next:
            self.fail_next -= 1
            return True
        return False

    def take_delay(self) -> float | None:
        if self.delay_next:
            self.delay_next -= 1
            return self.delay_seconds
        return None

    def take_drop(self, commands: list[str]) -> bool:
        if self.drop_next and (not self.drop_commands or set(commands) & set(self.drop_commands)):
            self.drop_next -= 1
            return True
        return False

    def as_json(self) -> dict[str, Any]:
        return {
            "fail_next": self.fail_next,
            "delay_next": self.delay_next,
            "delay_seconds": self.delay_seconds,
            "drop_next": self.drop_next,
            "commands": self.drop_commands,
            "locks": dict(self.locks),
        }
