"""What a flow run prints in a terminal: Prefect's progress lines, but no tracebacks. Every record, with
its traceback, goes to a log file beside the warehouse (settings.log_file_for), so a failure shows its
reason in a line or two and the details stay one `less` away."""

from __future__ import annotations

import logging
from pathlib import Path

TRACEBACK_MARK = "Traceback (most recent call last)"
# Prefect's own summary of a failed run repeats the error the CLI prints in one line.
REPEATS = ("Finished in state Failed", "Finished in state Crashed")


class NoTracebacks(logging.Filter):
    """Drops records that carry a traceback (or repeat the failure) from the console handler only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            return False
        message = record.getMessage()
        return TRACEBACK_MARK not in message and not any(mark in message for mark in REPEATS)


_FORMAT = "%(asctime)s %(levelname)-7s %(name)s - %(message)s"


class Routing:
    """The file handler and the console filters `route_logs` added, so `unroute_logs` can take them off."""

    def __init__(self, to_file: logging.Handler, filtered: list[tuple[logging.Handler, logging.Filter]]):
        self.to_file = to_file
        self.filtered = filtered


def route_logs(log_file: Path) -> Routing:
    """Keep tracebacks off the console's handlers and send every record to `log_file`. Call after Prefect
    is imported (it sets up its handlers then); undo with `unroute_logs`."""
    root = logging.getLogger()
    filtered = []
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            quiet = NoTracebacks()
            handler.addFilter(quiet)
            filtered.append((handler, quiet))
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(logging.Formatter(_FORMAT))
    to_file.setLevel(logging.INFO)
    root.addHandler(to_file)
    return Routing(to_file, filtered)


def unroute_logs(routing: Routing) -> None:
    for handler, quiet in routing.filtered:
        handler.removeFilter(quiet)
    logging.getLogger().removeHandler(routing.to_file)
    routing.to_file.close()


def log_failure(message: str, exc: BaseException) -> None:
    """Put a failure the CLI caught, with its traceback, in the log file (the console filter drops it)."""
    logging.getLogger("cscw").error("%s", message, exc_info=(type(exc), exc, exc.__traceback__))
