"""Structured logs: one JSON object per line, never a secret or card data.

Lines go through a 64 KiB buffer that a background thread flushes every
half second (and at exit), instead of one write system call per line: at a
burst of webhooks that call cost more than the rest of the logging. The
durable record of what happened is the database, not the log.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import sys
import threading

import structlog

FLUSH_SECONDS = 0.5


class _BufferedLineLogger:
    """A structlog logger writing UTF-8 lines to a thread-safe BufferedWriter."""

    def __init__(self, buffer: io.BufferedWriter) -> None:
        self._buffer = buffer

    def msg(self, message: str) -> None:
        self._buffer.write(message.encode("utf-8", "replace") + b"\n")

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _start_flusher(buffer: io.BufferedWriter) -> None:
    def flush_forever() -> None:
        while True:
            threading.Event().wait(FLUSH_SECONDS)
            try:
                buffer.flush()
            except (OSError, ValueError):  # stderr closed at shutdown
                return

    threading.Thread(target=flush_forever, name="log-flush", daemon=True).start()
    atexit.register(buffer.flush)


def configure_logging(level: str = "INFO", *, json_lines: bool | None = None) -> None:
    json_lines = (not sys.stderr.isatty()) if json_lines is None else json_lines
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s")
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    buffer = io.BufferedWriter(io.FileIO(os.dup(sys.stderr.fileno()), "w"), buffer_size=64 * 1024)
    _start_flusher(buffer)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=lambda *args: _BufferedLineLogger(buffer),
        cache_logger_on_first_use=True,
    )
