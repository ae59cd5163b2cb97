"""Who may call what on the agent's API: public callers and operator tools.

Two kinds of callers share the port of the customer chat:

* **Public callers** (customers' browsers) get Parlant's production rules: read the agent,
  open a guest session, read that session and its events, post customer messages — each
  rate-limited per client address (``agent.rate_limits``) — and a session only with its
  customer token (``agent.customer_access``). Everything else is refused.
* **Operator tools** (the Slack bridge) present ``Authorization: Bearer <PARLANT_API_TOKEN>``
  and may also list and update sessions, read customers, post ``human_agent`` and
  on-behalf-of-AI messages and ask the AI to speak. Nothing that changes the agent itself
  (guidelines, journeys, tools) is open to them: the agent is declared in code.

A request that presents a wrong token is refused outright, whatever it asks for.
Installed through Parlant's container (``configure_container``), never by patching.
"""

from typing import Final

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from parlant.api.authorization import (
    AuthorizationException,
    Operation,
    ProductionAuthorizationPolicy,
    RateLimitExceededException,
)
from typing_extensions import override

from agent.customer_access import CUSTOMER_TOKEN_HEADER, CustomerKeys, hand_out_tokens
from agent.rate_limits import AddressRateLimiter
from agent.secret import Secret, bearer_token

PUBLIC_OPERATIONS: Final = frozenset(
    {
        Operation.READ_AGENT,
        Operation.CREATE_GUEST_SESSION,
        Operation.READ_SESSION,
        Operation.LIST_EVENTS,
        Operation.CREATE_CUSTOMER_EVENT,
    }
)
OPERATOR_OPERATIONS: Final = PUBLIC_OPERATIONS | frozenset(
    {
        Operation.LIST_AGENTS,
        Operation.CREATE_CUSTOMER,
        Operation.READ_CUSTOMER,
        Operation.LIST_CUSTOMERS,
        Operation.UPDATE_CUSTOMER,
        Operation.CREATE_CUSTOMER_SESSION,
        Operation.LIST_SESSIONS,
        Operation.UPDATE_SESSION,
        Operation.READ_EVENT,
        Operation.UPDATE_EVENT,
        Operation.CREATE_AGENT_EVENT,
        Operation.CREATE_HUMAN_AGENT_EVENT,
        Operation.CREATE_HUMAN_AGENT_ON_BEHALF_OF_AI_AGENT_EVENT,
        Operation.CREATE_STATUS_EVENT,
        Operation.CREATE_CUSTOM_EVENT,
        Operation.OVERRIDE_CUSTOMER_PARTICIPANT,
        Operation.ACCESS_API_DOCS,
    }
)
DEVELOPER_PATHS: Final = frozenset(
    {"/", "/chat", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/logs"}
)
"""Parlant's sandbox (every customer's sessions), API docs and its unauthenticated log
websocket: removed outside development mode."""
UNROUTED_OPERATIONS: Final = frozenset({Operation.ACCESS_INTEGRATED_UI, Operation.ACCESS_API_DOCS})
"""Checked by Parlant in a middleware, where a refusal becomes a 500; allowed here because
their routes are removed (``close_developer_doors``), so the request ends in a 404."""
SESSION_SCOPED_OPERATIONS: Final = frozenset(
    {Operation.READ_SESSION, Operation.LIST_EVENTS, Operation.CREATE_CUSTOMER_EVENT}
)
"""Public operations on one session: allowed only with that session's customer token."""
READ_DEFINITION_OPERATIONS: Final = frozenset(
    operation
    for operation in Operation
    if operation.name.startswith(("READ_", "LIST_")) and "CONTEXT_VARIABLE" not in operation.name
)
"""Reading how the agent is declared (guidelines, journeys, glossary…): harmless to operators."""


class AccessDenied(AuthorizationException):
    """Parlant answers 403. Unlike Parlant's own exception, its text carries no headers,
    so neither the 403 body nor a log line can repeat a presented token."""

    def __init__(self, request: Request, operation: Operation) -> None:
        Exception.__init__(self, f"Not allowed: {operation.value}")
        self.request = request
        self.operation = operation


class TooManyRequests(RateLimitExceededException):
    """Parlant answers 429, without echoing the request's headers."""

    def __init__(self, request: Request, operation: Operation) -> None:
        Exception.__init__(self, f"Too many requests: {operation.value}")
        self.request = request
        self.operation = operation


def is_operator(request: Request, token: Secret) -> bool | None:
    """``True``: the right token; ``False``: a wrong one; ``None``: none presented."""
    presented = bearer_token(request.headers.get("authorization"))
    return None if presented is None else token.matches(presented)


def close_developer_doors(app: FastAPI) -> None:
    """Remove the developer pages and the log stream from the production API."""
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in DEVELOPER_PATHS
    ]


class OperatorTokenPolicy(ProductionAuthorizationPolicy):
    """Production rules for the public; operator rights for holders of the API token.

    Public callers are rate-limited per client address, an address they cannot forge
    (``AddressRateLimiter``); operators are not limited.
    """

    def __init__(self, token: Secret, customers: CustomerKeys, trusted_proxies: int = 0) -> None:
        super().__init__()
        self._token = token
        self._customers = customers
        self.default_limiter = AddressRateLimiter(trusted_proxies)

    @override
    async def configure_app(self, app: FastAPI) -> FastAPI:
        # Credentials travel in headers, never cookies, so any origin may embed the chat.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[CUSTOMER_TOKEN_HEADER],
        )
        hand_out_tokens(app, self._customers, lambda request: self._is_public(request))
        return app

    def _is_public(self, request: Request) -> bool:
        return is_operator(request, self._token) is None

    @property
    @override
    def name(self) -> str:
        return "operator-token"

    @override
    async def check_permission(self, request: Request, operation: Operation) -> bool:
        match is_operator(request, self._token):
            case True:
                return operation in OPERATOR_OPERATIONS | READ_DEFINITION_OPERATIONS
            case False:
                return operation in UNROUTED_OPERATIONS
            case None:
                if operation in UNROUTED_OPERATIONS:
                    return True
                if operation in SESSION_SCOPED_OPERATIONS:
                    return self._customers.allows(request)
                return operation in PUBLIC_OPERATIONS

    @override
    async def check_rate_limit(self, request: Request, operation: Operation) -> bool:
        if is_operator(request, self._token):
            return True  # the bridge relays whole backlogs at once; it is trusted
        return await super().check_rate_limit(request, operation)

    @override
    async def authorize(self, request: Request, operation: Operation) -> None:
        if not await self.check_permission(request, operation):
            raise AccessDenied(request, operation)
        if not await self.check_rate_limit(request, operation):
            raise TooManyRequests(request, operation)
