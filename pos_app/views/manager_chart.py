"""The day's chart, drawn with QPainter: takings per hour (bars) and tips per waiter (bars)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from .theme import ACCENT, INK, LINE, MUTED, WARN


class DayChart(QWidget):
    """Left: gross per local hour of the business day; right: tips per waiter. Values on the bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hours: list[tuple[int, int]] = []  # (hour, amount) in business-day order
        self.tips: list[tuple[str, int]] = []
        self.fmt: Callable[[int], str] = str
        self.whole: Callable[[int], str] = str
        self.setMinimumHeight(150)  # with two rows of figures above it, the tab still fits 768 px
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(
        self,
        hours: list[tuple[int, int]],
        tips: list[tuple[str, int]],
        fmt: Callable[[int], str],
        whole: Callable[[int], str] | None = None,
    ) -> None:
        """`whole`: the amount in whole units, for a bar whose exact sum does not fit over it."""
        self.hours, self.tips, self.fmt, self.whole = hours, tips, fmt, whole or fmt
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        width = self.width()
        split = int(width * 0.62)
        self._hours(painter, QRectF(16, 8, split - 32, self.height() - 16))
        self._tips(painter, QRectF(split + 16, 8, width - split - 32, self.height() - 16))
        painter.end()

    def _title(self, painter: QPainter, area: QRectF, text: str) -> None:
        font = QFont(self.font())
        font.setPixelSize(15)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(MUTED))
        painter.drawText(QRectF(area.left(), area.top(), area.width(), 24), Qt.AlignmentFlag.AlignLeft, text)

    def _hours(self, painter: QPainter, area: QRectF) -> None:
        self._title(painter, area, "TAKINGS PER HOUR")
        plot = QRectF(area.left(), area.top() + 48, area.width(), area.height() - 48 - 26)
        painter.setPen(QColor(LINE))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        if not self.hours:
            painter.setPen(QColor(MUTED))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No payments on this day")
            return
        top = max(amount for _, amount in self.hours) or 1
        slot = plot.width() / len(self.hours)
        font = QFont(self.font())
        for index, (hour, amount) in enumerate(self.hours):
            height = plot.height() * amount / top
            bar = QRectF(plot.left() + index * slot + slot * 0.15, plot.bottom() - height, slot * 0.7, height)
            painter.fillRect(bar, QColor(ACCENT))
            font.setPixelSize(13)
            font.setBold(False)
            painter.setFont(font)
            painter.setPen(QColor(INK))
            painter.drawText(
                QRectF(bar.left() - slot * 0.15, plot.bottom() + 4, slot, 20),
                Qt.AlignmentFlag.AlignHCenter,
                f"{hour:02d}",
            )
            if amount:
                font.setPixelSize(12 if slot < 60 else 13)
                font.setBold(True)
                painter.setFont(font)
                text = self.fmt(amount)
                if QFontMetrics(font).horizontalAdvance(text) > slot - 2:
                    text = self.whole(amount)  # a busy hour's "€410.16" over a narrow bar: "€410"
                painter.drawText(
                    QRectF(bar.left() - slot * 0.15, bar.top() - 20, slot, 18),
                    Qt.AlignmentFlag.AlignHCenter,
                    text,
                )

    def _tips(self, painter: QPainter, area: QRectF) -> None:
        self._title(painter, area, "TIPS PER WAITER")
        if not self.tips:
            painter.setPen(QColor(MUTED))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "No tips")
            return
        top = max(amount for _, amount in self.tips) or 1
        row_height = min(44.0, (area.height() - 36) / len(self.tips))
        font = QFont(self.font())
        font.setPixelSize(15)
        for index, (waiter, amount) in enumerate(self.tips):
            y = area.top() + 36 + index * row_height
            painter.setFont(font)
            painter.setPen(QColor(INK))
            name_width = 110
            painter.drawText(
                QRectF(area.left(), y, name_width - 8, row_height - 8),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                waiter,
            )
            room = area.width() - name_width - 90
            bar = QRectF(area.left() + name_width, y + 4, max(2.0, room * amount / top), row_height - 16)
            painter.fillRect(bar, QColor(WARN))
            painter.drawText(
                QRectF(bar.right() + 6, y, 90, row_height - 8),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                self.fmt(amount),
            )
