"""The TablePay kiosk (PySide6 + qasync).

Layers, imports pointing one way:
  menu, settings, secrets, money_format  (plain Python)
  store/      local SQLite (sqlite-utils, WAL, migrations): orders, lines, attempts, applied feed events
  client      the sync service's kiosk API (httpx.AsyncClient)
  feed        the long-polling worker that applies feed events to the store
  viewmodels/ QObjects with Signals and async slots; no widgets
  views/      widgets only: no SQL, no HTTP
  app         composes all of the above (the only place that knows every layer)
"""

APP_NAME = "tablepay-kiosk"
