"""Benchmarks of the bridge on loopback, each reported next to a baseline from the same run.

    .venv/bin/python -m bench.run [--samples 30] [--sessions 500] [--seconds 10]

1. Operator reply → Parlant event (seen on the agent's push stream), against the floor of
   posting the same event to Parlant directly.
2. Customer message → Slack thread, against the floor of one ``chat.postMessage`` call.
3. The Parlant server's CPU with ``--sessions`` handed off and idle while the bridge
   follows them, against the same server idle with no handoffs, and against 100 idle
   REST long-polls (the design the bridge avoids).

Real parts: ``python -m agent`` (offline model), ``python -m slack_bridge`` (HTTP mode),
and the test suite's Slack emulator with its rate limits off (Slack's pacing is not what
is measured; the bridge's own pacing is raised with ``SLACK_POSTS_PER_SECOND``).
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx
from parlant.client import AsyncParlantClient
from parlant.client.types import Participant
from slack_sdk.web.async_client import AsyncWebClient

from agent.handoff import handoff_record
from agent.insurance_agent import AGENT_ID
from bench.cli import run_benchmark
from tests.bridge.helpers import hand_off
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.processes import AgentServer, operator_headers

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STREAM_READY_SECONDS = 10.0
"""How long the push stream may take to say hello."""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def cpu_share(pid: int, seconds: float) -> float:
    """Share of one core the process used over ``seconds``."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


async def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met")
        await asyncio.sleep(0.001)


class StreamWatch:
    """The agent's push stream, timestamping each message event as it arrives.

    The agent runs in production mode (``AgentServer``'s default operator token), where
    ``/handoff/stream`` answers 401 without ``Authorization: Bearer <operator token>``.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self.arrivals: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "StreamWatch":
        ready = asyncio.Event()

        async def follow() -> None:
            timeout = aiohttp.ClientTimeout(total=None)
            async with (
                aiohttp.ClientSession(timeout=timeout, headers=operator_headers()) as http,
                http.get(f"{self._url}/handoff/stream", params={"kinds": "message"}) as response,
            ):
                response.raise_for_status()
                async for line in response.content:
                    notice = json.loads(line)
                    if notice["type"] == "hello":
                        ready.set()
                    elif notice["type"] == "event":
                        message = notice["event"]["data"].get("message", "")
                        self.arrivals.setdefault(message, time.monotonic())

        self._task = asyncio.create_task(follow())
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait(
            {self._task, waiting}, timeout=STREAM_READY_SECONDS, return_when="FIRST_COMPLETED"
        )
        if not ready.is_set():
            waiting.cancel()
            await self.__aexit__()
            raise RuntimeError("the agent's push stream did not say hello")
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except aiohttp.ClientError as error:  # a refused stream (401) ends up here
            raise RuntimeError(f"the agent's push stream failed: {error}") from error


def _arrived(stream: StreamWatch, text: str) -> Callable[[], bool]:
    return lambda: text in stream.arrivals


async def timed(action: Callable[[], Awaitable[object]], done: Callable[[], bool]) -> float:
    start = time.monotonic()
    await action()
    await wait_for(done)
    return time.monotonic() - start


async def latencies(
    emulator: SlackEmulator, agent: AgentServer, customers: AsyncParlantClient, samples: int
) -> None:
    handoff = await hand_off(emulator, customers, "Bench Customer")
    session_id = handoff.chat.session_id
    async with StreamWatch(agent.url) as stream:
        direct: list[float] = []
        for n in range(samples):
            text = f"direct {n}"

            async def post_direct(text: str = text) -> None:
                await customers.sessions.create_event(
                    session_id,
                    kind="message",
                    source="human_agent",
                    message=text,
                    participant=Participant(id="bench", display_name="Bench"),
                )

            direct.append(await timed(post_direct, _arrived(stream, text)))
        relayed: list[float] = []
        for n in range(samples):
            text = f"operator reply {n}"

            async def reply(text: str = text) -> None:
                await emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, text, handoff.thread_ts)

            relayed.append(await timed(reply, _arrived(stream, text)))
    print(f"Operator reply -> Parlant event      {summary(relayed)}")
    print(f"  baseline: direct POST to Parlant   {summary(direct)}")
    print(f"  ratio (p50): {statistics.median(relayed) / statistics.median(direct):.1f}x")

    slack = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
    posts: list[float] = []
    for n in range(samples):

        async def post(text: str = f"p{n}") -> None:
            await slack.chat_postMessage(channel=HANDOFF_CHANNEL, text=text)

        posts.append(await timed(post, lambda: True))
    mirrored: list[float] = []
    for n in range(samples):
        text = f"customer message {n}"

        def in_thread(text: str = text) -> bool:
            thread = emulator.thread(HANDOFF_CHANNEL, handoff.thread_ts)
            return any(text in m.text for m in thread)

        async def say(text: str = text) -> None:
            await handoff.chat.say(text)

        mirrored.append(await timed(say, in_thread))
        await asyncio.sleep(0.05)
    print(f"Customer message -> Slack thread     {summary(mirrored)}")
    print(f"  baseline: one chat.postMessage     {summary(posts)}")
    print(f"  ratio (p50): {statistics.median(mirrored) / statistics.median(posts):.1f}x")


async def offline_turns(customers: AsyncParlantClient, samples: int) -> None:
    """The offline model's turn: customer message → AI reply, against a bare event write."""
    from tests.support.parlant import open_chat

    chat = await open_chat(customers, "Turn Bench")
    writes: list[float] = []
    turns: list[float] = []
    for n in range(samples):
        start = time.monotonic()
        said = await chat.say("What does my policy cover?" if n % 2 else "What are your hours?")
        writes.append(time.monotonic() - start)
        await chat.next_ai_reply(said)
        turns.append(time.monotonic() - start)
        await chat.turn_finished(said)
    print(f"Offline turn (message -> AI reply)   {summary(turns)}")
    print(f"  baseline: writing the message      {summary(writes)}")


async def mark_handed_off(http: aiohttp.ClientSession, url: str, customer_id: str) -> None:
    """A session marked exactly as the handoff tool marks one."""
    async with http.post(
        f"{url}/sessions", json={"agent_id": AGENT_ID, "customer_id": customer_id}
    ) as response:
        session = await response.json()
    record = handoff_record("benchmark", datetime.now(UTC))
    patch = {
        "mode": "manual",
        "labels": {"upsert": ["handoff"], "remove": []},
        "metadata": {"set": {"handoff": record}, "unset": []},
    }
    async with http.patch(f"{url}/sessions/{session['id']}", json=patch) as response:
        response.raise_for_status()


async def idle_cpu(
    emulator: SlackEmulator, agent: AgentServer, sessions: int, seconds: float
) -> None:
    assert agent.process is not None and agent.process.process is not None
    pid = agent.process.process.pid
    await asyncio.sleep(2)
    baseline = await cpu_share(pid, seconds)
    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        async with http.post(f"{agent.url}/customers", json={"name": "Idle"}) as response:
            customer = await response.json()
        semaphore = asyncio.Semaphore(16)

        async def one() -> None:
            async with semaphore:
                await mark_handed_off(http, agent.url, customer["id"])

        start = time.monotonic()
        await asyncio.gather(*(one() for _ in range(sessions)))

        def roots() -> int:
            return sum(1 for m in emulator.messages(HANDOFF_CHANNEL) if m.blocks and m.bot_id)

        await wait_for(lambda: roots() >= sessions + 1, timeout=600)
        opened = time.monotonic() - start
        await asyncio.sleep(3)
        with_handoffs = await cpu_share(pid, seconds)

        session_ids = []
        async with http.get(f"{agent.url}/sessions", params={"labels": "handoff"}) as response:
            session_ids = [s["id"] for s in await response.json()][:100]
        polls = [
            asyncio.create_task(
                http.get(
                    f"{agent.url}/sessions/{sid}/events",
                    params={"min_offset": "1000", "wait_for_data": "60"},
                    timeout=aiohttp.ClientTimeout(total=None),
                )
            )
            for sid in session_ids
        ]
        await asyncio.sleep(2)
        long_polls = await cpu_share(pid, seconds)
        for poll in polls:
            poll.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
    print(f"{sessions} sessions marked handed off; threads opened in {opened:.1f}s")
    print(
        f"Parlant CPU, {sessions} handoffs idle, bridge following  {with_handoffs:6.1%} of a core"
    )
    print(f"  baseline: no handoffs, bridge following   {baseline:6.1%} of a core")
    print(f"  for comparison: 100 idle REST long-polls  {long_polls:6.1%} of a core")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as scratch:
        work = Path(scratch)
        agent = AgentServer(home=work / "parlant")
        emulator = SlackEmulator(rate_limits=False)
        bridge = BridgeProcess(
            emulator,
            agent.url,
            work / "bridge",
            extra_env={"SLACK_POSTS_PER_SECOND": "100", "BRIDGE_LOG_LEVEL": "warning"},
        )
        try:
            started = time.monotonic()
            await asyncio.to_thread(agent.start)
            print(f"Agent start-up, fresh data folder    {time.monotonic() - started:.2f} s")
            await emulator.start()
            await bridge.start()
            async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
                customers = AsyncParlantClient(base_url=agent.url, httpx_client=http)
                await offline_turns(customers, args.samples)
                await latencies(emulator, agent, customers, args.samples)
            await idle_cpu(emulator, agent, args.sessions, args.seconds)
        finally:
            await asyncio.shield(_stop(agent, emulator, bridge))


async def _stop(agent: AgentServer, emulator: SlackEmulator, bridge: BridgeProcess) -> None:
    try:
        await bridge.stop()
    finally:
        try:
            await emulator.stop()
        finally:
            await asyncio.to_thread(agent.stop)


if __name__ == "__main__":
    run_benchmark(main())
