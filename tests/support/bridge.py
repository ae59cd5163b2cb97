"""``python -m slack_bridge`` as a child process, wired to a Slack emulator and an agent.

Started and stopped without blocking the event loop: the emulator serves the bridge's
Slack calls from the test's own loop.
"""

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.ports import free_port
from tests.support.processes import OPERATOR_TOKEN, ManagedProcess, clean_env

HANDOFF_CHANNEL = ids.HANDOFF_CHANNEL


@dataclass
class BridgeProcess:
    emulator: SlackEmulator
    parlant_url: str
    workdir: Path
    socket_mode: bool = False
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.workdir / "handoff.db"

    def env(self) -> dict[str, str]:
        settings = {
            "SLACK_BOT_TOKEN": self.emulator.bot_token,
            "SLACK_SIGNING_SECRET": self.emulator.signing_secret,
            "SLACK_HANDOFF_CHANNEL": HANDOFF_CHANNEL,
            "SLACK_API_URL": self.emulator.api_url,
            "PARLANT_URL": self.parlant_url,
            "PARLANT_API_TOKEN": OPERATOR_TOKEN,
            "BRIDGE_HOST": "127.0.0.1",
            "BRIDGE_PORT": str(self.port),
            "HANDOFF_DB": str(self.db_path),
            "BRIDGE_LOG_LEVEL": "debug",
        }
        if self.socket_mode:
            settings["SLACK_APP_TOKEN"] = self.emulator.app_token
            del settings["SLACK_SIGNING_SECRET"]  # not needed without HTTP requests
        settings.update(self.extra_env)
        return clean_env(**settings)

    async def start(self, timeout: float = 30.0) -> "BridgeProcess":
        self.workdir.mkdir(parents=True, exist_ok=True)
        connections_before = self.emulator.socket_connections
        self.process = ManagedProcess(
            args=[sys.executable, "-m", "slack_bridge"],
            env=self.env(),
            cwd=self.workdir,
            log_path=self.workdir / "bridge.log",
        )
        self.process.start()
        await self._wait_healthy(timeout)
        if self.socket_mode:
            self.emulator.use_socket_mode()
            await self.emulator.wait_for_socket_connection(connections_before + 1, timeout)
        else:
            self.emulator.use_http(f"{self.url}/slack/events")
        return self

    async def _wait_healthy(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.process.running:
                    raise RuntimeError(f"bridge exited:\n{self.log()[-4000:]}")
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"bridge did not start within {timeout}s:\n{self.log()[-4000:]}")

    async def stop(self, timeout: float = 15.0) -> None:
        process = self.process.process if self.process is not None else None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            deadline = time.monotonic() + timeout
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        assert self.process is not None
        self.process.process = None

    def log(self) -> str:
        return self.process.log() if self.process is not None else ""
