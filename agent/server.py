"""Runs the Parlant server with the insurance agent until it is stopped."""

import contextlib
import logging

from fastapi import FastAPI
from lagom import Container

from agent.settings import AgentSettings

logger = logging.getLogger(__name__)


async def serve(settings: AgentSettings) -> None:
    """Start Parlant with the agent and serve until cancelled.

    ``PARLANT_HOME`` must already point at ``settings.parlant_home``: Parlant reads it
    when ``parlant.sdk`` is first imported, which happens here.
    """
    import parlant.sdk as p
    from parlant.api.authorization import AuthorizationPolicy

    from agent.authorization import OperatorTokenPolicy, close_developer_doors
    from agent.chat_page import add_chat_page
    from agent.customer_access import CustomerKeys
    from agent.event_stream import EventHub, add_stream_route
    from agent.insurance_agent import create_insurance_agent
    from agent.nlp import choose_nlp_factory
    from agent.session_store import open_stores

    nlp_factory = choose_nlp_factory(settings.nlp)
    perceived = p.NullPerceivedPerformancePolicy() if settings.offline else None
    hub = EventHub()
    token = settings.api_token

    async def configure_container(container: Container) -> Container:
        if not settings.development:
            assert token is not None
            customers = CustomerKeys.load_or_create(settings.parlant_home)
            policy = OperatorTokenPolicy(token, customers, settings.trusted_proxies)
            container[AuthorizationPolicy] = policy  # type: ignore[type-abstract]
        return container

    async def configure_api(app: FastAPI) -> None:
        if not settings.development:
            close_developer_doors(app)
        add_stream_route(app, hub, token)
        add_chat_page(app)  # after the doors are closed: it serves "/" itself

    if settings.development:
        logger.warning(
            "PARLANT_ENV=development: the API is open to anyone who can reach %s:%s",
            settings.host,
            settings.port,
        )
    async with contextlib.AsyncExitStack() as stack:
        stores = await open_stores(stack, settings.store, settings.parlant_home, hub)
        async with p.Server(
            host=settings.host,
            port=settings.port,
            tool_service_port=settings.tool_port,
            nlp_service=nlp_factory,
            session_store=stores.sessions,
            customer_store=stores.customers,
            log_level=p.LogLevel[settings.log_level.upper()],
            configure_container=configure_container,
            configure_api=configure_api,
        ) as server:
            await create_insurance_agent(server, perceived)
