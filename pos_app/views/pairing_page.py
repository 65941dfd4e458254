"""The window of an unpaired kiosk: the service's address, then a code big enough to read across a counter."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QMainWindow, QStackedWidget, QWidget

from ..viewmodels.pairing import BUSY, PairingState, PairingViewModel
from .keyboard import OnScreenKeyboard
from .theme import STYLE
from .widgets import BrandLogo, button, hbox, label, vbox

WINDOW_SIZE = (1280, 800)  # the same touch screen as the order screens

# min-height 60 + the 2 px border: a key is the 64 px the keyboard sets, not 68 (its last row was cut by 2 px).
PAIRING_STYLE = """
#PairingCode { font-family: "DejaVu Sans Mono", monospace; font-size: 150px; font-weight: 800;
               letter-spacing: 6px; background: white; border: 3px solid #0f766e; border-radius: 28px;
               padding: 10px 40px; }
#PairingCommand { font-family: "DejaVu Sans Mono", monospace; font-size: 24px; font-weight: 700;
                  background: white; border: 1px solid #e4e0d8; border-radius: 12px; padding: 14px 18px; }
#PairingMessage { font-size: 22px; }
#PairingHeadline { font-size: 34px; font-weight: 800; }
#KeyboardKey { font-size: 24px; font-weight: 600; padding: 0 4px; border-radius: 12px; min-height: 60px; }
#KeyboardKey:checked { background: #0f766e; color: white; border-color: #0f766e; }
"""


def _edit(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMinimumHeight(64)
    return edit


class PairingWindow(QMainWindow):
    def __init__(self, vm: PairingViewModel) -> None:
        super().__init__()
        self.vm = vm
        self.setWindowTitle("TablePay kiosk: pairing")
        self.setStyleSheet(STYLE + PAIRING_STYLE)
        self.resize(*WINDOW_SIZE)
        self.pages = QStackedWidget()
        self.address_page, self.code_page = self._address_page(), self._code_page()
        self.manual_page, self.message_page = self._manual_page(), self._message_page()
        for page in (self.address_page, self.code_page, self.manual_page, self.message_page):
            page.setObjectName("Page")
            self.pages.addWidget(page)
        column = vbox(spacing=0)
        column.addWidget(self._header())
        column.addWidget(self.pages, 1)
        shell = QWidget()
        shell.setLayout(column)
        self.setCentralWidget(shell)
        self._tick = QTimer(self)  # the countdown; the view model knows the time left
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        vm.stateChanged.connect(self._on_state)
        self._on_state(vm.state.value)

    def _header(self) -> QWidget:
        header = QFrame()
        header.setObjectName("Header")
        header.setFixedHeight(68)
        row = QHBoxLayout(header)
        row.setContentsMargins(24, 6, 24, 6)
        row.addWidget(BrandLogo())
        row.addSpacing(20)
        row.addWidget(label("Pair this kiosk with the sync service", "Context"), 1)
        return header

    def _address_page(self) -> QWidget:
        page, body = QWidget(), vbox(spacing=16, margins=24)
        body.addWidget(label("Which sync service should this kiosk use?", "Title"))
        body.addWidget(
            label(
                "Type its address on the keys below, then get a pairing code to show the manager.",
                "Subtitle",
                wrap=True,
            )
        )
        self.url_edit = _edit("192.168.1.20:8787")
        self.get_code_button = button("Get pairing code", "Primary")
        self.get_code_button.setFixedWidth(300)
        self.token_instead_button = button("Use a token", "Secondary")
        self.token_instead_button.setFixedWidth(220)
        self.get_code_button.clicked.connect(lambda: self.vm.request_code(self.url_edit.text()))
        self.token_instead_button.clicked.connect(self.vm.use_token)
        row = hbox(self.url_edit, self.get_code_button, self.token_instead_button)
        body.addLayout(row)
        self.address_message = label("", "PinMessage", wrap=True)
        body.addWidget(self.address_message)
        body.addStretch(1)
        # Each typing page has its own keys, so the code page is not made taller by a hidden keyboard.
        self.keyboard = OnScreenKeyboard()
        self.keyboard.attach(self.url_edit)
        body.addWidget(self.keyboard)
        page.setLayout(body)
        return page

    def _code_page(self) -> QWidget:
        page, body = QWidget(), vbox(spacing=14, margins=24)
        self.code_for = label("", "Subtitle")
        body.addWidget(self.code_for, 0, Qt.AlignmentFlag.AlignHCenter)
        self.code_label = label("", "PairingCode")
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.addWidget(self.code_label, 0, Qt.AlignmentFlag.AlignHCenter)
        body.addWidget(label("On the sync service's machine, run:", "PairingMessage"), 0, Qt.AlignmentFlag.AlignHCenter)
        self.command_label = label("", "PairingCommand")
        self.command_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body.addWidget(self.command_label, 0, Qt.AlignmentFlag.AlignHCenter)
        body.addWidget(
            label(
                "KIOSK_ID is the name this kiosk gets, e.g. bar-1. Add --manager if its staff may refund.", "Subtitle"
            ),
            0,
            Qt.AlignmentFlag.AlignHCenter,
        )
        self.code_status = label("", "PairingMessage")
        body.addWidget(self.code_status, 0, Qt.AlignmentFlag.AlignHCenter)
        body.addStretch(1)
        self.change_address_button = button("Change address", "Secondary")
        self.code_token_button = button("Use a token", "Secondary")
        self.new_code_button = button("New code", "Secondary")
        self.change_address_button.clicked.connect(self.vm.change_address)
        self.code_token_button.clicked.connect(self.vm.use_token)
        self.new_code_button.clicked.connect(self.vm.new_code)
        body.addLayout(hbox(self.change_address_button, self.code_token_button, self.new_code_button))
        page.setLayout(body)
        return page

    def _manual_page(self) -> QWidget:
        page, body = QWidget(), vbox(spacing=12, margins=24)
        top = QHBoxLayout()
        top.addWidget(label("Pair with a token", "Title"), 1)
        self.manual_back_button, self.pair_button = button("Back", "Secondary"), button("Pair", "Primary")
        self.manual_back_button.setFixedWidth(180)
        self.pair_button.setFixedWidth(220)
        self.manual_back_button.clicked.connect(self.vm.change_address)
        top.addWidget(self.manual_back_button)
        top.addSpacing(12)
        top.addWidget(self.pair_button)
        body.addLayout(top)
        self.manual_url_edit, self.token_edit = _edit("Sync service address"), _edit("tpk_… from add-kiosk")
        self.pair_button.clicked.connect(
            lambda: self.vm.pair_with_token(self.manual_url_edit.text(), self.token_edit.text())
        )
        body.addLayout(hbox(label("Service", "FieldLabel"), self.manual_url_edit))
        body.addLayout(hbox(label("Token", "FieldLabel"), self.token_edit))
        self.manual_message = label("", "PinMessage", wrap=True)
        body.addWidget(self.manual_message)
        body.addStretch(1)
        self.manual_keyboard = OnScreenKeyboard()
        self.manual_keyboard.attach(self.manual_url_edit, self.token_edit)
        body.addWidget(self.manual_keyboard)
        page.setLayout(body)
        return page

    def _message_page(self) -> QWidget:
        page, body = QWidget(), vbox(spacing=24, margins=48)
        body.addStretch(1)
        self.headline = label("", "PairingHeadline", wrap=True)
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.addWidget(self.headline)
        self.detail = label("", "PairingMessage", wrap=True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.addWidget(self.detail)
        self.back_button, self.retry_button = button("Change address", "Secondary"), button("Try again", "Primary")
        self.back_button.clicked.connect(self.vm.change_address)
        self.retry_button.clicked.connect(self.vm.try_again)
        buttons = hbox(self.back_button, self.retry_button)
        buttons.setContentsMargins(200, 0, 200, 0)
        body.addLayout(buttons)
        body.addStretch(2)
        page.setLayout(body)
        return page

    # -- following the view model ------------------------------------------------------
    def _on_state(self, _: str) -> None:
        state, vm = self.vm.state, self.vm
        self._tick.stop()
        if state is PairingState.ADDRESS:
            self.url_edit.setText(self.url_edit.text() or vm.service_url)
            self.address_message.setText(vm.message)
            self.address_message.setProperty("error", "true")
            self.pages.setCurrentWidget(self.address_page)
        elif state is PairingState.MANUAL:
            self.manual_url_edit.setText(self.manual_url_edit.text() or vm.service_url)
            self.manual_message.setText(vm.message)
            # The keys type where the focus is: the token, once the address is there.
            field = self.token_edit if self.manual_url_edit.text() else self.manual_url_edit
            field.setFocus()
            self.manual_keyboard.target = field
            self.pages.setCurrentWidget(self.manual_page)
        elif state is PairingState.CODE:
            self.code_for.setText(f"Pairing code for the sync service at {vm.service_url}")
            self.code_label.setText(vm.code)
            self.command_label.setText(vm.command)
            self.code_status.setText(f"{vm.message} · {vm.countdown()}")
            self._tick.start()
            self.pages.setCurrentWidget(self.code_page)
        else:
            self._show_message(state)

    def _show_message(self, state: PairingState) -> None:
        headlines = {
            PairingState.REQUESTING: "Asking for a pairing code…",
            PairingState.CHECKING: "Checking the token…",
            PairingState.EXPIRED: "This code has expired",
            PairingState.ERROR: "Not paired yet",
            PairingState.PAIRED: "Paired",
        }
        self.headline.setText(headlines[state])
        self.detail.setText(self.vm.message)
        # Busy: Cancel is the way out; error or expired: Try again / New code, or another address.
        self.back_button.setVisible(state is not PairingState.PAIRED)
        self.back_button.setText("Cancel" if state in BUSY else "Change address")
        self.retry_button.setVisible(state in (PairingState.ERROR, PairingState.EXPIRED))
        self.retry_button.setText("New code" if state is PairingState.EXPIRED else "Try again")
        self.pages.setCurrentWidget(self.message_page)

    def _on_tick(self) -> None:
        self.code_status.setText(f"{self.vm.message} · {self.vm.countdown()}")
