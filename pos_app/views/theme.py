"""Colours, sizes and the style sheet: one place, so every screen shares the same rhythm."""

from __future__ import annotations

INK = "#1c1f26"
MUTED = "#6b7280"
BG = "#f3f1ec"
CARD = "#ffffff"
LINE = "#e4e0d8"
ACCENT = "#0f766e"  # teal: primary actions
ACCENT_DARK = "#0b5d57"
PAID = "#15803d"
WARN = "#b45309"
DANGER = "#b91c1c"
HEADER = "#1f2a30"

TOUCH = 64  # default touch target, px
COMPACT = 56  # the smallest touch target anywhere (order lines, segmented rows)
GAP = 16

STATUS_COLOURS = {
    None: MUTED,
    "open": ACCENT,
    "pending": WARN,
    "authorized": WARN,
    "paid": PAID,
    "failed": DANGER,
    "cancelled": MUTED,
    "expired": WARN,
    "partially_refunded": WARN,
    "refunded": MUTED,
    "split": ACCENT,  # guests are paying their parts of a split bill
    "split_stopped": WARN,  # the split ended with something left to pay
}

# The order's state in the restaurant POS (None: never sent to the kitchen).
POS_COLOURS = {None: MUTED, "queued": WARN, "in_pos": ACCENT, "paid": PAID, "failed": DANGER}
# The send-to-kitchen outcome line (viewmodels.Tone values).
TONE_COLOURS = {"none": MUTED, "busy": MUTED, "ok": PAID, "warn": WARN, "error": DANGER}

STYLE = f"""
QWidget {{ font-family: "DejaVu Sans", "Noto Sans", sans-serif; font-size: 18px; color: {INK}; }}
QMainWindow, #Page {{ background: {BG}; }}
#Header {{ background: {HEADER}; }}
#Header QLabel {{ color: #f8fafc; }}
#Brand {{ font-size: 24px; font-weight: 700; letter-spacing: 1px; }}
#Context {{ font-size: 20px; color: #cbd5e1; }}
#NavButton {{ background: transparent; color: #e2e8f0; border: 2px solid #3b4a52; border-radius: 12px;
              padding: 0 22px; min-height: 48px; font-size: 18px; font-weight: 600; }}
#NavButton:checked {{ background: #334148; border-color: #5eead4; color: #ffffff; }}
#StatusBar {{ background: {CARD}; border-top: 1px solid {LINE}; }}
#StatusBar QLabel {{ font-size: 15px; color: {MUTED}; }}
#Card {{ background: {CARD}; border-radius: 18px; border: 1px solid {LINE}; }}
#Title {{ font-size: 30px; font-weight: 700; }}
#Subtitle {{ font-size: 17px; color: {MUTED}; }}
#Notice {{ font-size: 17px; font-weight: 600; color: {INK}; background: #fdf3e1; border: 2px solid {WARN};
           border-radius: 12px; padding: 10px 14px; }}
#SectionLabel {{ font-size: 13px; font-weight: 700; color: {MUTED}; letter-spacing: 1px; }}
QPushButton {{ min-height: {TOUCH}px; border-radius: 14px; padding: 0 18px; font-size: 19px; font-weight: 600;
               background: {CARD}; border: 2px solid {LINE}; }}
QPushButton:pressed {{ background: #e6f4f1; }}
QPushButton:disabled {{ color: #b8b8b8; background: #f5f5f4; border-color: #ece9e3; }}
#TableButton {{ min-height: 96px; max-height: 120px; font-size: 30px; font-weight: 700; border-radius: 20px;
                 text-align: center; }}
#TableButton[busy="true"] {{ border: 3px solid {ACCENT}; background: #ecfdf9; }}
#CategoryButton {{ min-height: {COMPACT}px; max-height: {COMPACT}px; border-radius: 28px; padding: 0 10px;
                   font-size: 18px; }}
#CategoryButton:checked {{ background: {INK}; color: white; border-color: {INK}; }}
#MenuButton {{ min-height: 88px; border-radius: 18px; text-align: left; padding: 10px 16px; font-size: 18px; }}
#MenuButton:pressed {{ background: #d9f2ed; border-color: {ACCENT}; }}
#Chip {{ min-height: {TOUCH}px; max-height: {TOUCH}px; border-radius: 14px; padding: 0 10px; font-size: 18px; }}
#Chip:checked {{ background: {ACCENT}; border-color: {ACCENT}; color: white; }}
#QtyButton {{ min-width: {COMPACT}px; max-width: {COMPACT}px; min-height: {COMPACT}px; max-height: {COMPACT}px;
               padding: 0; font-size: 26px; border-radius: 28px; }}
#RemoveButton {{ min-width: {COMPACT}px; max-width: {COMPACT}px; min-height: {COMPACT}px; max-height: {COMPACT}px;
                 padding: 0; font-size: 22px; font-weight: 700; color: {DANGER}; border: 2px solid #f3d0d0;
                 background: #fdf4f4; border-radius: 14px; }}
#RemoveButton:pressed {{ background: #fbe1e1; }}
#RemoveButton:disabled {{ color: #d6b8b8; background: #faf7f7; border-color: #f1e6e6; }}
#LineRow {{ border-bottom: 1px solid #efece6; }}
#LineName {{ font-size: 18px; font-weight: 600; }}
#LineMeta {{ font-size: 14px; color: {MUTED}; }}
#LineQty {{ font-size: 20px; font-weight: 700; }}
#LineTotal {{ font-size: 18px; font-weight: 600; }}
#RowCaption {{ font-size: 16px; font-weight: 700; }}
#RowCaptionSub {{ font-size: 13px; color: {MUTED}; }}
#PartnerName {{ font-size: 14px; color: {MUTED}; }}
#Segment {{ min-height: {COMPACT}px; max-height: {COMPACT}px; padding: 0 6px; font-size: 17px; font-weight: 600;
            border-radius: 0; border: 2px solid {LINE}; border-left-width: 0; background: {CARD}; }}
#Segment[segment="first"] {{ border-left-width: 2px; border-top-left-radius: 14px; border-bottom-left-radius: 14px; }}
#Segment[segment="last"] {{ border-top-right-radius: 14px; border-bottom-right-radius: 14px; }}
#Segment[segment="only"] {{ border-left-width: 2px; border-radius: 14px; }}
#Segment:checked {{ background: {ACCENT}; border-color: {ACCENT}; color: white; }}
#Segment:disabled {{ color: #b8b8b8; background: #f5f5f4; }}
#Segment:checked:disabled {{ background: #7fb3ad; color: #f0f7f6; }}
#SumLabel {{ font-size: 16px; color: {MUTED}; }}
#SumValue {{ font-size: 17px; font-weight: 600; }}
#TotalLabel {{ font-size: 13px; font-weight: 700; color: {MUTED}; letter-spacing: 1px; }}
#TotalValue {{ font-size: 34px; font-weight: 800; }}
#Divider {{ background: {LINE}; min-height: 1px; max-height: 1px; }}
#LogoMark {{ background: {ACCENT}; color: white; border-radius: 10px; font-size: 22px; font-weight: 800; }}
#PinDots {{ font-size: 40px; letter-spacing: 10px; padding: 8px 16px; background: {BG}; border-radius: 14px; }}
#PinMessage {{ font-size: 17px; color: {MUTED}; }}
#PinMessage[error="true"] {{ color: {DANGER}; font-weight: 600; }}
#Code {{ font-family: "DejaVu Sans Mono", monospace; font-size: 17px; background: {BG}; padding: 10px 14px;
         border-radius: 10px; }}
#FieldLabel {{ font-size: 15px; color: {MUTED}; }}
#FieldValue {{ font-size: 18px; font-weight: 600; }}
#Primary {{ background: {ACCENT}; color: white; border: none; font-size: 24px; font-weight: 700; min-height: 72px;
            border-radius: 18px; }}
#Primary:pressed {{ background: {ACCENT_DARK}; }}
#Primary:disabled {{ background: #9ca3af; color: #f3f4f6; }}
#Secondary {{ font-size: 21px; min-height: 72px; border-radius: 18px; }}
#Kitchen {{ font-size: 20px; font-weight: 700; min-height: 72px; border-radius: 18px; color: {ACCENT_DARK};
            border: 3px solid {ACCENT}; background: #ecfdf9; padding: 0 14px; }}
#Kitchen:pressed {{ background: #d9f2ed; }}
#Kitchen:disabled {{ color: #9ca3af; border-color: #d1d5db; background: #f5f5f4; }}
#KitchenMessage {{ font-size: 16px; font-weight: 600; }}
#Danger {{ color: {DANGER}; border-color: #f1c4c4; font-size: 21px; min-height: 72px; border-radius: 18px; }}
#Empty {{ font-size: 20px; color: {MUTED}; }}
#Pill {{ border-radius: 14px; padding: 4px 14px; font-size: 15px; font-weight: 700; color: white; }}
#CheckoutPanel {{ background: {BG}; }}
#QrCard {{ background: white; border-radius: 28px; border: 1px solid {LINE}; }}
#BigAmount {{ font-size: 64px; font-weight: 800; }}
#BigTable {{ font-size: 30px; font-weight: 700; color: {MUTED}; }}
#Countdown {{ font-size: 26px; font-weight: 600; }}
#PanelMessage {{ font-size: 24px; }}
#Headline {{ font-size: 44px; font-weight: 800; }}
#Overlay {{ background: rgba(15, 23, 42, 150); }}
#Dialog {{ background: {CARD}; border-radius: 24px; }}
#PadDisplay {{ font-size: 44px; font-weight: 800; padding: 8px 16px; background: {BG}; border-radius: 14px; }}
#PadKey {{ min-height: 76px; font-size: 30px; font-weight: 700; border-radius: 16px; }}
QLineEdit {{ min-height: {TOUCH}px; border: 2px solid {LINE}; border-radius: 14px; padding: 0 14px; font-size: 20px;
             background: white; }}
#FieldCaption {{ font-size: 13px; font-weight: 700; color: {MUTED}; letter-spacing: 1px; }}
#Picker {{ min-height: {COMPACT}px; max-height: {COMPACT}px; text-align: left; padding: 0 14px; font-size: 18px;
           font-weight: 600; border-radius: 14px; }}
#Picker:pressed {{ background: #e6f4f1; border-color: {ACCENT}; }}
#Count {{ font-size: 18px; font-weight: 700; }}
#Action {{ padding: 0 14px; }}
#StepButton {{ min-width: {TOUCH}px; max-width: {TOUCH}px; min-height: {TOUCH}px; max-height: {TOUCH}px; padding: 0;
               font-size: 30px; font-weight: 700; border-radius: 32px; }}
#StepValue {{ font-size: 20px; font-weight: 700; }}
#Figure {{ font-size: 28px; font-weight: 800; }}
QCheckBox {{ min-height: {COMPACT}px; spacing: 10px; }}
QCheckBox::indicator {{ width: 28px; height: 28px; }}
QTableView {{ font-size: 17px; gridline-color: {LINE}; }}
QHeaderView::section {{ font-size: 15px; font-weight: 700; padding: 6px 8px; }}
QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QScrollBar:vertical {{ width: 10px; background: transparent; }}
QScrollBar::handle:vertical {{ background: #cfcac0; border-radius: 5px; min-height: 40px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
"""


def pill_style(colour: str) -> str:
    return (
        f"background: {colour}; color: white; border-radius: 14px; padding: 4px 14px; font-size: 15px; "
        "font-weight: 700;"
    )
