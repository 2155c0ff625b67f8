"""What a flow run prints in a terminal: Prefect's progress lines, but no tracebacks. Every record, with
its traceback, goes to a log file beside the warehouse (settings.log_file_for), so a failure shows its
reason in a line or two and the details stay one `less` away."""

from __future__ import annotations

import logging
import os
from pathlib import Path

TRACEBACK_MARK = "Traceback (most recent call last)"
# Prefect's own summary of a failed run repeats the error the CLI prints in one line.
REPEATS = ("Finished in state Failed", "Finished in state Crashed")


class NoTracebacks(logging.Filter):
    """Drops records that carry a traceback (and, for the CLI, those repeating the failure it prints
    itself) from a console handler only."""

    def __init__(self, drop_repeats: bool = True) -> None:
        super().__init__()
        self.drop_repeats = drop_repeats

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            return False
        message = record.getMessage()
        if TRACEBACK_MARK in message:
            return False
        return not (self.drop_repeats and any(mark in message for mark in REPEATS))


def _console_handlers() -> list[logging.Handler]:
    return [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]


def quiet_worker_run() -> None:
    """In a flow run a worker started (Prefect sets PREFECT__FLOW_RUN_ID), keep tracebacks off the
    worker's terminal: its "Finished in state Failed(...)" line gives the reason, and the flow run's log
    in the Prefect UI keeps every traceback. Does nothing elsewhere (the CLI routes its own logs)."""
    if not os.environ.get("PREFECT__FLOW_RUN_ID"):
        return
    for handler in _console_handlers():
        if not any(isinstance(f, NoTracebacks) for f in handler.filters):
            handler.addFilter(NoTracebacks(drop_repeats=False))


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
    for handler in _console_handlers():
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
