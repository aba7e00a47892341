"""`make run`: the web server and one worker, started together and stopped together.

Each child runs in a process group of its own, so a Ctrl-C reaches this script
alone, which then asks each child to stop gracefully in the way it understands
(gunicorn: SIGTERM; the huey worker: SIGINT, which lets the job in hand finish),
and kills what is still running after a grace period. When either child ends on
its own (a crash, a Redis that cannot be reached), the other is stopped too and
its exit code is ours: one command, one fate.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_SECONDS = 15
BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    parser.add_argument("--web-workers", default="2")
    args = parser.parse_args()

    children = {
        "web": (
            [
                str(BIN / "gunicorn"),
                "--no-control-socket",
                "--workers",
                args.web_workers,
                "--bind",
                f"{args.host}:{args.port}",
                # The portal logs one line per request itself (portal/request_log.py).
                "--error-logfile",
                "-",
                "wsgi:app",
            ],
            signal.SIGTERM,
        ),
        "worker": ([str(BIN / "flask"), "--app", "wsgi", "worker"], signal.SIGINT),
    }
    running: dict[str, tuple[subprocess.Popen, signal.Signals]] = {}
    stopping = False

    def stop(*_ignored) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for process, graceful in running.values():
            if process.poll() is None:
                os.killpg(process.pid, graceful)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, (command, graceful) in children.items():
            running[name] = (subprocess.Popen(command, start_new_session=True), graceful)
        while not stopping and all(p.poll() is None for p, _ in running.values()):
            time.sleep(0.2)
        code = 0
        if not stopping:  # a child ended on its own
            name, process = next((n, p) for n, (p, _) in running.items() if p.poll() is not None)
            code = process.returncode or 1
            print(
                f"serve: the {name} stopped (exit code {process.returncode}); stopping the rest.",
                file=sys.stderr,
            )
            stop()
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(p.poll() is None for p, _ in running.values()):
            time.sleep(0.2)
        return code
    finally:
        # Whatever did not stop in time (or this script failing) takes no child along.
        for process, _ in running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


if __name__ == "__main__":
    sys.exit(main())
