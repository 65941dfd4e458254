"""Structured logs: one JSON object per line on stderr, never a secret or card data.

Two kinds of lines share one output, in order:

- the service's own structlog events, rendered straight to a 64 KiB buffer. Info and debug
  lines wait there until a background thread flushes it (twice a second, and at exit):
  one write system call per line cost more than the rest of the logging at a burst of
  webhooks. A warning or an error flushes the buffer at once, with every line before it,
  so what led up to a crash is on disk before the crash (a SIGKILL loses at most half a
  second of info lines, never a warning);
- the standard library's records (httpx, stripe, uvicorn, anything else), through the root
  logger's handler, whose structlog ProcessorFormatter renders them with the same
  processors as our events, plus the logger's name. It is a StreamHandler, so it flushes
  after every record; its stream is the same buffer, so no line overtakes another.

The durable record of what happened is the database, not the log. (sys.stderr itself is not
used for our lines: a dup of its descriptor is, so its own buffering plays no part.)
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import sys
import threading
import time
from typing import Any

import structlog

FLUSH_SECONDS = 0.5
_HANDLER_NAME = "tablepay"


class _Sink:
    """The one buffered output both kinds of lines go to (BufferedWriter is thread-safe)."""

    def __init__(self, fd: int) -> None:
        self.buffer = io.BufferedWriter(io.FileIO(os.dup(fd), "w"), buffer_size=64 * 1024)

    def write(self, text: str) -> None:  # the text stream API, for logging.StreamHandler
        self.buffer.write(text.encode("utf-8", "replace"))

    def flush(self) -> None:
        try:
            self.buffer.flush()
        except (OSError, ValueError):  # stderr closed at shutdown: nowhere left to say it
            pass

    def flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()


class _LineLogger:
    """The structlog logger: buffers info and below, flushes from warning up."""

    def __init__(self, sink: _Sink) -> None:
        self._sink = sink

    def _buffered(self, message: str) -> None:
        self._sink.buffer.write(message.encode("utf-8", "replace") + b"\n")

    def _flushed(self, message: str) -> None:
        self._buffered(message)
        self._sink.flush()

    msg = log = debug = info = _buffered
    warn = warning = error = critical = exception = fatal = _flushed


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _stdlib_handler(sink: _Sink, renderer: Any, level: str) -> logging.Handler:
    handler = logging.StreamHandler(sink)
    handler.set_name(_HANDLER_NAME)
    handler.setLevel(level)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_shared_processors(), structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    return handler


def configure_logging(level: str = "INFO", *, json_lines: bool | None = None) -> None:
    json_lines = (not sys.stderr.isatty()) if json_lines is None else json_lines
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    sink = _Sink(sys.stderr.fileno())
    threading.Thread(target=sink.flush_forever, name="log-flush", daemon=True).start()
    atexit.register(sink.flush)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:  # configured again: replace
        root.removeHandler(old)
    root.addHandler(_stdlib_handler(sink, renderer, level))
    root.setLevel(level)

    structlog.configure(
        processors=[*_shared_processors(), structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=lambda *args: _LineLogger(sink),
        cache_logger_on_first_use=True,
    )
