"""Which Prefect server a command's flow runs on: a running one when there is one, so a command does not
pay for starting a temporary server (10-30 s on two cores) each time.

Looked for before Prefect is imported (Prefect reads PREFECT_API_URL once, when it loads):
1. PREFECT_API_URL set: it must answer, else the command stops and says so (it was asked for by name);
2. the project's own server (`make prefect-server`, or the one `make run` leaves running) on
   http://127.0.0.1:4200/api: used when it answers;
3. none: Prefect starts a temporary local server for the run and stops it afterwards.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

PROJECT_API_URL = "http://127.0.0.1:4200/api"
PROBE_TIMEOUT_SECONDS = 1.0


class ServerUnreachable(RuntimeError):
    """PREFECT_API_URL names a server that does not answer."""


def answers(api_url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """True when a Prefect API answers its health check at `api_url`."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError, urllib.error.URLError):
        return False


def use_running_server(project_url: str = PROJECT_API_URL) -> str | None:
    """Point this process's Prefect at a running server; returns its API URL, or None when the run will
    start a temporary one. Once Prefect is imported its settings are fixed, so nothing is changed then."""
    explicit = os.environ.get("PREFECT_API_URL")
    if "prefect" in sys.modules:
        return explicit
    if explicit:
        if answers(explicit):
            return explicit
        raise ServerUnreachable(
            f"PREFECT_API_URL is {explicit} but no Prefect server answers there: start it "
            "(`make prefect-server`) or unset PREFECT_API_URL to run on a temporary server"
        )
    if answers(project_url):
        os.environ["PREFECT_API_URL"] = project_url
        return project_url
    return None


def main(argv: list[str] | None = None) -> int:
    """`python -m csc_warehouse.flows.server check|wait [URL]`: for the Makefile (exit 0 when a server
    answers; `wait` gives one 90 s to start)."""
    import time

    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    url = args[1] if len(args) > 1 else os.environ.get("PREFECT_API_URL") or PROJECT_API_URL
    deadline = time.monotonic() + (90 if command == "wait" else 0)
    while True:
        if answers(url):
            return 0
        if time.monotonic() >= deadline:
            return 1
        time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main())
