"""Child processes for tests: the agent (and later the bridge), with clean environments."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
OPERATOR_TOKEN = "tests-operator-token-3f9c1e7a5b2d4f6a8c0e"
"""The agent's ``PARLANT_API_TOKEN`` in tests; the bridge and operator-side tests send it."""


def operator_headers(token: str = OPERATOR_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def clean_env(**settings: str) -> dict[str, str]:
    """Only what a process needs to run, plus ``settings``: no developer secrets leak in."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    base["PYTHONUNBUFFERED"] = "1"
    base.update(settings)
    return base


@dataclass
class ManagedProcess:
    """A child started in its own process group, stopped (and reaped) on ``stop``."""

    args: list[str]
    env: Mapping[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            env=dict(self.env),
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code


def wait_http_ok(url: str, process: ManagedProcess, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running:
            raise RuntimeError(f"process exited before {url} answered:\n{process.log()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{process.log()[-4000:]}")


@dataclass
class AgentServer:
    """``python -m agent`` with the offline model on free loopback ports.

    Production mode with ``token`` as the operator token; ``token=None`` runs it with
    ``PARLANT_ENV=development`` (the API open to anyone).
    """

    home: Path
    port: int = field(default_factory=free_port)
    tool_port: int = field(default_factory=free_port)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    token: str | None = OPERATOR_TOKEN
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "AgentServer":
        access = {"PARLANT_API_TOKEN": self.token} if self.token else {"PARLANT_ENV": "development"}
        self.home.mkdir(parents=True, exist_ok=True)
        env = clean_env(
            PARLANT_NLP="offline",
            PARLANT_HOME=str(self.home),
            PARLANT_HOST="127.0.0.1",
            PARLANT_PORT=str(self.port),
            PARLANT_TOOL_PORT=str(self.tool_port),
            PARLANT_LOG_LEVEL="warning",
            **access,
            **self.extra_env,
        )
        self.process = ManagedProcess(
            args=[sys.executable, "-m", "agent"],
            env=env,
            cwd=self.home,
            log_path=self.home / "agent.log",
        )
        self.process.start()
        wait_http_ok(f"{self.url}/healthz", self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> "AgentServer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
