"""The pairing screen of an unpaired kiosk: ask the service for a code, show it, wait for the operator.

By code: the kiosk POSTs /v1/pairing/codes to the service URL, shows the code and the command to
run on the service (`tablepay sync add-kiosk KIOSK_ID --code CODE`), and long-polls the code with
its poll secret until the operator's approval hands it the token. By token: a manager types the URL
and a token from `tablepay sync add-kiosk KIOSK_ID`, checked with GET /v1/kiosk as `tablepay kiosk
pair` checks it. Either way the pairing is stored as `pair` stores it (pos_app.pairing) and `paired`
tells the app to open the order screens.

Every state but the busy ones has a way out on screen; the busy ones have Cancel. An unexpected
error (a malformed answer, a bug) ends in ERROR with Try again (`recover`), in the slots through
`waiter_action` and in the poll loop, which is a task of its own, by the same `recover`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..client import ApiError, SyncClient, Unreachable
from ..pairing import DEFAULT_SERVICE_URL, normalise_service_url, save_pairing
from ..secrets import Pairing
from ..settings import KioskSettings
from .actions import unexpected, waiter_action

log = logging.getLogger(__name__)
ADD_KIOSK_COMMAND = "tablepay sync add-kiosk KIOSK_ID --code {code}"


class PairingState(str, Enum):
    ADDRESS = "address"  # type the service's URL
    REQUESTING = "requesting"  # asking it for a code
    CODE = "code"  # showing the code, waiting for the operator
    EXPIRED = "expired"  # the code expired (or was used): New code
    MANUAL = "manual"  # type the URL and a token
    CHECKING = "checking"  # asking whose token it is
    ERROR = "error"  # Try again / Change address
    PAIRED = "paired"


BUSY = (PairingState.REQUESTING, PairingState.CHECKING)


class PairingViewModel(QObject):
    stateChanged = Signal(str)
    paired = Signal(object)  # the stored Pairing

    def __init__(
        self,
        directory: Path,
        settings: KioskSettings,
        *,
        poll_wait: float = 25.0,
        retry_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.directory, self.settings = directory, settings
        self._poll_wait, self._retry_seconds, self._clock = poll_wait, retry_seconds, clock
        self.service_url = normalise_service_url(settings.service_url) or DEFAULT_SERVICE_URL
        self.state = PairingState.ADDRESS
        self.message = ""
        self.code = ""
        self.kiosk_id = ""
        self._poll_token = ""
        self._expires_at = 0.0
        self._retry: Callable[[], None] = self.change_address
        self._client: SyncClient | None = None
        self._poller: asyncio.Task[None] | None = None

    def start(self) -> None:
        """A configured service (settings.service_url) is asked for a code at once; else the address is asked."""
        if self.settings.service_url:
            self.request_code(self.service_url)
        else:
            self._go(PairingState.ADDRESS)

    # -- what the screen shows ------------------------------------------------------
    @property
    def command(self) -> str:
        return ADD_KIOSK_COMMAND.format(code=self.code or "CODE")

    def seconds_left(self) -> int:
        return max(0, round(self._expires_at - self._clock()))

    def countdown(self) -> str:
        left = self.seconds_left()
        return f"Code valid for {left // 60}:{left % 60:02d}"

    # -- by code -----------------------------------------------------------------------
    @waiter_action(str)
    async def request_code(self, typed_url: str) -> None:
        if self.state in BUSY:  # a second tap while the first request is on its way
            return
        url = self._accept_url(typed_url, PairingState.ADDRESS)
        if url is None:
            return
        self._stop_polling()
        self._retry = lambda: self.request_code(url)
        self._go(PairingState.REQUESTING, f"Asking {url} for a pairing code…")
        try:
            answer = await (await self._client_for(url)).create_pairing_code(_kiosk_name())
        except Unreachable:
            if self.state is PairingState.REQUESTING:  # else Cancel was pressed meanwhile
                self._fail(
                    f"No answer from {url}. Check the address, and that the sync service runs "
                    "(`tablepay sync`) and this kiosk can reach it."
                )
            return
        except ApiError as exc:
            if self.state is PairingState.REQUESTING:
                self._fail(_refusal(url, exc))
            return
        if self.state is not PairingState.REQUESTING:
            return
        self.code, self._poll_token = answer["code"], answer["poll_token"]
        self._expires_at = self._clock() + answer["expires_in"]
        self._go(PairingState.CODE, "Waiting for the sync service…")
        self._poller = asyncio.ensure_future(self._poll(url))

    async def _poll(self, url: str) -> None:
        try:
            while self.state is PairingState.CODE:
                client = await self._client_for(url)
                try:
                    answer = await client.pairing_code(
                        self.code, self._poll_token, min(self._poll_wait, max(1, self.seconds_left()))
                    )
                except Unreachable:
                    self._go(PairingState.CODE, f"Lost the connection to {url}; trying again…")
                    await asyncio.sleep(self._retry_seconds)
                    continue
                except ApiError as exc:
                    if exc.status == 429:
                        await asyncio.sleep(self._retry_seconds)
                        continue
                    if exc.status == 404:
                        self._retry = lambda: self.request_code(url)
                        self._go(PairingState.EXPIRED, "This code has expired. Get a new one.")
                        return
                    raise
                if answer["status"] == "waiting":
                    self._expires_at = self._clock() + answer["expires_in"]
                    self._go(PairingState.CODE, "Waiting for the sync service…")
                    continue
                await self._finish(url, answer["token"], expected=answer["kiosk_id"])
                return
        except Exception as error:
            log.exception("PairingViewModel._poll failed unexpectedly")
            self.recover(error)

    def new_code(self) -> None:
        self.request_code(self.service_url)

    # -- by token ----------------------------------------------------------------------
    def use_token(self) -> None:
        self._stop_polling()
        self._go(
            PairingState.MANUAL,
            "Type the sync service's address and the token from `tablepay sync add-kiosk KIOSK_ID`.",
        )

    @waiter_action(str, str)
    async def pair_with_token(self, typed_url: str, token: str) -> None:
        if self.state in BUSY:
            return
        url = self._accept_url(typed_url, PairingState.MANUAL)
        if url is None:
            return
        token = token.strip()
        if not token:
            self._go(PairingState.MANUAL, "Type the token too.")
            return
        self._retry = self.use_token
        self._go(PairingState.CHECKING, f"Asking {url} whose token this is…")
        await self._finish(url, token, expected=None)

    async def _finish(self, url: str, token: str, *, expected: str | None) -> None:
        """Ask whose token it is (GET /v1/kiosk, as `tablepay kiosk pair` does), then store the pairing."""
        asked_in = self.state
        client = SyncClient(url, token, timeout=self.settings.request_timeout_seconds)
        problem, kiosk_id = "", ""
        try:
            kiosk_id = await client.whoami()
        except Unreachable:
            problem = f"No answer from {url}. Check the address and that the sync service runs."
        except ApiError as exc:
            problem = (
                "The sync service refused this token (401). Issue a new one with `tablepay sync add-kiosk KIOSK_ID`."
                if exc.status == 401
                else _refusal(url, exc)
            )
        finally:
            await client.aclose()
        if self.state is not asked_in:
            return  # Cancel was pressed while the service was asked: store nothing, say nothing
        if not problem and expected is not None and kiosk_id != expected:
            problem = f"The service gave a token of kiosk {kiosk_id!r}, not {expected!r}. Get a new code."
        if problem:
            self._fail(problem)
            return
        where = save_pairing(self.directory, self.settings, url, token, kiosk_id)
        log.info("kiosk %r paired with %s on the pairing screen; the token is stored in %s", kiosk_id, url, where)
        self.kiosk_id, self.service_url = kiosk_id, url
        self._go(PairingState.PAIRED, f"Paired as {kiosk_id}. Opening the kiosk…")
        self.paired.emit(Pairing(url, token))

    # -- ways out ----------------------------------------------------------------------
    def change_address(self) -> None:
        self._stop_polling()
        self._go(PairingState.ADDRESS, "")

    def try_again(self) -> None:
        self._retry()

    def recover(self, error: Exception) -> None:
        self._stop_polling(cancel_running=False)
        self._fail(unexpected(error))

    async def aclose(self) -> None:
        poller = self._poller
        self._stop_polling()
        if poller is not None and poller is not asyncio.current_task():
            # Let the cancelled poll close its request while the loop still runs.
            await asyncio.gather(poller, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- inside ------------------------------------------------------------------------
    def _accept_url(self, typed: str, on_error: PairingState) -> str | None:
        url = normalise_service_url(typed)
        if url is None:
            self._go(
                on_error,
                f"{typed.strip() or 'An empty address'} is not a web address: type it as "
                "192.168.1.20:8787 or http://server:8787.",
            )
            return None
        self.service_url = url
        return url

    async def _client_for(self, url: str) -> SyncClient:
        if self._client is not None and self._client.base_url.rstrip("/") != url.rstrip("/"):
            await self._client.aclose()
            self._client = None
        if self._client is None:
            self._client = SyncClient(url, None, timeout=self.settings.request_timeout_seconds)
        return self._client

    def _stop_polling(self, *, cancel_running: bool = True) -> None:
        poller, self._poller = self._poller, None
        if poller is not None and not poller.done() and (cancel_running or poller is not asyncio.current_task()):
            poller.cancel()

    def _fail(self, message: str) -> None:
        self._go(PairingState.ERROR, message)

    def _go(self, state: PairingState, message: str = "") -> None:
        self.state, self.message = state, message
        self.stateChanged.emit(state.value)


def _kiosk_name() -> str | None:
    """Sent with the code request so `add-kiosk --code` can show the operator which machine asks."""
    name = "".join(c for c in socket.gethostname() if c.isprintable())[:64]
    return name or None


def _refusal(url: str, exc: ApiError) -> str:
    if exc.status == 429:
        return (
            "The sync service is refusing more pairing requests from this kiosk for now. Wait a minute, then Try again."
        )
    return (
        f"{url} answered {exc.status} ({exc.message}). Is this a TablePay sync service, "
        "and recent enough to pair by code? A token works with any version: Use a token."
    )
