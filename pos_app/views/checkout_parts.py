"""What the checkout's two QR screens share: the code on its white card, and the column beside it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from .widgets import QrCode, label, vbox


class InfoColumn(QWidget):
    """Table, amount, countdown and the two buttons beside the QR code: at least 340 px, so on a
    1024 px screen "Waiting for the guest to pay…" keeps one line, the buttons take two, and the code
    takes the rest (about 410 px there); on 1280x800 the code gets its full 600 px."""

    LEAST_WIDTH = 340

    def minimumSizeHint(self) -> QSize:
        least = super().minimumSizeHint()
        return QSize(max(least.width(), self.LEAST_WIDTH), least.height())

    def sizeHint(self) -> QSize:
        return self.minimumSizeHint()


def qr_card(hint: str) -> tuple[QFrame, QrCode]:
    """The code (600 px where there is room, at least QrCode.MIN_SIDE on 1024x768) over a one-line hint."""
    card = QFrame()
    card.setObjectName("QrCard")
    layout = vbox(spacing=8, margins=28)
    qr = QrCode()
    layout.addWidget(qr, 1, Qt.AlignmentFlag.AlignCenter)
    caption = label(hint, "Subtitle")
    caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(caption)
    card.setLayout(layout)
    return card, qr


def qr_beside_info(page: QWidget, hint: str, widgets: list[QWidget]) -> tuple[QrCode, QVBoxLayout]:
    """A checkout screen on `page`: the code (and `hint`) on the left; on the right `widgets` from the
    middle down, then room for the buttons the caller adds to the returned column."""
    row = QHBoxLayout(page)
    row.setContentsMargins(48, 40, 48, 40)
    row.setSpacing(48)
    card, qr = qr_card(hint)
    row.addWidget(card, 0, Qt.AlignmentFlag.AlignVCenter)
    info = vbox(spacing=14)
    side = InfoColumn()
    side.setLayout(info)
    info.addStretch(1)
    for widget in widgets:
        info.addWidget(widget)
    info.addStretch(1)
    row.addWidget(side, 0)
    return qr, info
