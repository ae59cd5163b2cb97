"""Runs the Parlant server with the insurance agent until it is stopped."""

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable

from agent.settings import AgentSettings

logger = logging.getLogger(__name__)


async def serve(
    settings: AgentSettings,
    on_ready: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Start Parlant with the agent and serve until cancelled.

    ``PARLANT_HOME`` must already point at ``settings.parlant_home``: Parlant reads it
    when ``parlant.sdk`` is first imported, which happens here.
    """
    import parlant.sdk as p

    from agent.insurance_agent import create_insurance_agent
    from agent.nlp import choose_nlp_factory

    nlp_factory = choose_nlp_factory(settings.nlp)
    perceived = p.NullPerceivedPerformancePolicy() if settings.offline else None

    async with p.Server(
        host=settings.host,
        port=settings.port,
        tool_service_port=settings.tool_port,
        nlp_service=nlp_factory,
        session_store=settings.store,
        customer_store=settings.store,
        log_level=p.LogLevel[settings.log_level.upper()],
    ) as server:
        await create_insurance_agent(server, perceived)
        if on_ready is not None:
            asyncio.get_running_loop().create_task(_when_ready(server, on_ready))


async def _when_ready(server: "object", on_ready: Callable[[], Awaitable[None]]) -> None:
    await server.ready.wait()  # type: ignore[attr-defined]
    await on_ready()


def prepare_parlant_home(settings: AgentSettings) -> None:
    settings.parlant_home.mkdir(parents=True, exist_ok=True)
    os.environ["PARLANT_HOME"] = str(settings.parlant_home.resolve())
