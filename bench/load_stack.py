"""The parts under load, started fresh for each step and always stopped.

``python -m agent`` (offline model, SQLite store, production mode with the operator
token), the Slack emulator in this process with its rate limits off, and
``python -m slack_bridge`` in HTTP mode posting as fast as its settings allow. Each of
those three can be changed by an argument of ``running_stack`` (the emulator's limits,
Socket Mode, the bridge's posting pace and other settings); the defaults are the above.
Every port is a free loopback port; the children run in their own process groups and are
stopped in ``finally`` (also when the benchmark is interrupted).
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.load_stats import Processes, process_tree
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import BridgeProcess
from tests.support.processes import AgentServer

MAX_POSTS_PER_SECOND = 100
"""The highest ``SLACK_POSTS_PER_SECOND`` the bridge accepts (its config caps it)."""
NO_REMINDERS = "[default]\nalert_after_minutes = 1440\n"
"""``HANDOFF_ROUTES``: the waiting-case reminder pushed out to a day, so that the N
reminders due five minutes after the handoffs do not land inside the measured window."""
TRUSTED_PROXIES = 1
"""Guests are told apart by ``X-Forwarded-For`` as behind one proxy: each simulated
customer gets its own address, so Parlant's per-address limits apply per customer."""


@dataclass(frozen=True)
class Stack:
    agent: AgentServer
    emulator: SlackEmulator
    bridge: BridgeProcess
    started_in: float
    """Seconds from nothing to all three answering."""

    @property
    def agent_pid(self) -> int:
        assert self.agent.process is not None and self.agent.process.process is not None
        return self.agent.process.process.pid

    @property
    def bridge_pid(self) -> int:
        assert self.bridge.process is not None and self.bridge.process.process is not None
        return self.bridge.process.process.pid

    def processes(self, with_bench: bool = True) -> Processes:
        """The agent's and the bridge's process trees; and this process (the load
        generator and the Slack emulator), which is not counted as either."""
        found = {"agent": process_tree(self.agent_pid), "bridge": process_tree(self.bridge_pid)}
        if with_bench:
            found["bench"] = [os.getpid()]
        return found


@contextlib.asynccontextmanager
async def running_stack(
    work: Path,
    source: Path | None = None,
    *,
    rate_limits: bool = False,
    socket_mode: bool = False,
    posts_per_second: float = MAX_POSTS_PER_SECOND,
    bridge_env: Mapping[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """All three parts on loopback in ``work``; stopped whatever happens inside.

    ``source``: run the agent and the bridge from that source tree instead (put first on
    ``PYTHONPATH``), to measure a change under the same conditions. ``rate_limits``: the
    emulator enforces Slack's tiers (``emulator.rate_limits`` switches them later).
    ``socket_mode``: the bridge takes Slack's events over Socket Mode instead of HTTP.
    ``posts_per_second``: the bridge's ``SLACK_POSTS_PER_SECOND``. ``bridge_env``: more
    settings for the bridge, over the ones above.
    """
    started = asyncio.get_running_loop().time()
    path = {"PYTHONPATH": str(source.resolve())} if source is not None else {}
    agent = AgentServer(
        home=work / "parlant",
        extra_env={"PARLANT_TRUSTED_PROXIES": str(TRUSTED_PROXIES), **path},
    )
    emulator = SlackEmulator(rate_limits=rate_limits)
    bridge: BridgeProcess | None = None
    try:
        await asyncio.to_thread(agent.start)
        await emulator.start()
        routes = work / "routes.toml"
        routes.write_text(NO_REMINDERS)
        bridge = BridgeProcess(
            emulator,
            agent.url,
            work / "bridge",
            socket_mode=socket_mode,
            extra_env={
                "SLACK_POSTS_PER_SECOND": f"{posts_per_second:g}",
                "BRIDGE_LOG_LEVEL": "warning",
                "HANDOFF_ROUTES": str(routes),
                **path,
                **(bridge_env or {}),
            },
        )
        await bridge.start()
        yield Stack(agent, emulator, bridge, asyncio.get_running_loop().time() - started)
    finally:
        # Shielded: an interrupt must not leave a child running half-stopped.
        await asyncio.shield(_stop(agent, emulator, bridge))


async def _stop(agent: AgentServer, emulator: SlackEmulator, bridge: BridgeProcess | None) -> None:
    try:
        if bridge is not None:
            await bridge.stop()
    finally:
        try:
            await emulator.stop()
        finally:
            await asyncio.to_thread(agent.stop)
