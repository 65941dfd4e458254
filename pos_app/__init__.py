"""The TablePay kiosk (PySide6 + qasync). Built in the kiosk issue; the
domain rules it uses live in tablepay_domain."""
