"""The whole stack as `make run` starts it (scripts/run.py), in the background on free ports
with its own settings: for the integration tests and `make bench`."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from scripts.rasa_env import ROOT
from scripts.run import READY_BANNER

START_TIMEOUT_SECONDS = 300
# Set in the environment of every process a stack starts, to find them all afterwards.
MARKER = "WUYE_STACK_ID"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def processes_marked(marker: str) -> list[int]:
    """Every process whose environment holds WUYE_STACK_ID=marker (one stack's processes)."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if needle in environ.split(b"\0"):
            found.append(int(proc.name))
    return found


@dataclass
class RunningStack:
    env: dict[str, str]
    log: Path
    app_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    action_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    process: subprocess.Popen[bytes] | None = None
    # What was still running after the stack had stopped (and was then killed): none, or a bug.
    leftovers: list[int] = field(default_factory=list)
    # Every stack started in this process, so that one a failing test left running is still
    # stopped at the end (tests/conftest.py).
    started: ClassVar[list[RunningStack]] = []

    def __post_init__(self) -> None:
        # In `env`, so that another app process started on this stack has them too.
        self.env = {
            "RASA_TOKEN": self.rasa_token,
            "ACTION_ENDPOINT_TOKEN": self.action_token,
            **self.env,
        }

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
            os.environ,
            **self.env,
            APP_PORT=str(self.app_port),
            RASA_PORT=str(self.rasa_port),
            ACTION_PORT=str(self.action_port),
            **{MARKER: self.marker},
        )
        RunningStack.started.append(self)
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
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group; then anything
        of this stack still running (a worker its parent left behind) is killed."""
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait()
        self.leftovers = processes_marked(self.marker)
        for pid in self.leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return code

    def ensure_stopped(self) -> None:
        """Stopped, whatever its test did: interrupted if running, its leftovers killed."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.interrupt()
            return
        for pid in processes_marked(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def rasa_client(self, **kwargs: Any) -> httpx.Client:
        """Rasa's HTTP API and REST channel, with this stack's token."""
        return httpx.Client(base_url=self.rasa_url, params={"token": self.rasa_token}, **kwargs)
