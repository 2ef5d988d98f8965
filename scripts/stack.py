"""The whole stack as `make run` starts it (scripts/run.py), in the background on free ports
with its own settings: for the integration tests and `make bench`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.rasa_env import ROOT
from scripts.run import READY_BANNER

START_TIMEOUT_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def child_pids(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


@dataclass
class RunningStack:
    env: dict[str, str]
    log: Path
    app_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        env = dict(
            os.environ, **self.env, APP_PORT=str(self.app_port), RASA_PORT=str(self.rasa_port)
        )
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scripts.run"],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while READY_BANNER not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.interrupt()
                raise RuntimeError(f"the stack did not start:\n{self.output()[-5000:]}")
            time.sleep(0.5)

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()
