"""Runs the Parlant server with the insurance agent until it is stopped."""

import contextlib

from fastapi import FastAPI

from agent.settings import AgentSettings


async def serve(settings: AgentSettings) -> None:
    """Start Parlant with the agent and serve until cancelled.

    ``PARLANT_HOME`` must already point at ``settings.parlant_home``: Parlant reads it
    when ``parlant.sdk`` is first imported, which happens here.
    """
    import parlant.sdk as p

    from agent.event_stream import EventHub, add_stream_route
    from agent.insurance_agent import create_insurance_agent
    from agent.nlp import choose_nlp_factory
    from agent.session_store import open_session_store

    nlp_factory = choose_nlp_factory(settings.nlp)
    perceived = p.NullPerceivedPerformancePolicy() if settings.offline else None
    hub = EventHub()

    async def configure_api(app: FastAPI) -> None:
        add_stream_route(app, hub)

    async with contextlib.AsyncExitStack() as stack:
        sessions = await open_session_store(stack, settings.store, settings.parlant_home, hub)
        async with p.Server(
            host=settings.host,
            port=settings.port,
            tool_service_port=settings.tool_port,
            nlp_service=nlp_factory,
            session_store=sessions,
            customer_store=settings.store,
            log_level=p.LogLevel[settings.log_level.upper()],
            configure_api=configure_api,
        ) as server:
            await create_insurance_agent(server, perceived)


def prepare_parlant_home(settings: AgentSettings) -> None:
    import os

    settings.parlant_home.mkdir(parents=True, exist_ok=True)
    os.environ["PARLANT_HOME"] = str(settings.parlant_home.resolve())
