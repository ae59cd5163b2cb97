"""The customers' chat page: one HTML page, one script, one stylesheet, no build step.

``add_chat_page(app)`` serves the page at ``/`` and ``/support`` on the agent's port, with
its script and stylesheet under ``/support/``. The page talks to Parlant's public API only,
like any customer's browser: it opens a guest session on the first message, keeps the
session id and its customer token (``X-Customer-Token``) in ``localStorage``, and follows
that one session with a single long-poll. It never lists sessions and holds no secret.

Call it from ``configure_api`` *after* ``close_developer_doors``: that function removes
every route at ``/``, this one included. The routes are put first in the router, so in
development mode the page wins over Parlant's own ``GET /`` redirect to its sandbox.

Every answer carries a strict Content-Security-Policy (no inline script or style, API
calls to this origin only, Trusted Types required, no framing).
"""

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response

STATIC_DIR: Final = Path(__file__).parent / "static"
PAGE_PATHS: Final = ("/", "/support")
SCRIPT_PATH: Final = "/support/chat.js"
STYLE_PATH: Final = "/support/chat.css"
CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)
SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Small files: revalidated on every load, so a new version is picked up at once.
    "Cache-Control": "no-cache",
}


def render_page(agent_id: str, agent_name: str) -> str:
    """The page's HTML with the agent filled in (escaped; read by the script from meta tags)."""
    template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return template.replace("{{agent_id}}", html.escape(agent_id, quote=True)).replace(
        "{{agent_name}}", html.escape(agent_name, quote=True)
    )


def add_chat_page(app: FastAPI, agent_id: str | None = None, agent_name: str | None = None) -> None:
    """Serve the customers' chat page on ``app`` (the agent's insurance agent by default)."""
    if agent_id is None or agent_name is None:
        from agent.insurance_agent import AGENT_ID, AGENT_NAME

        agent_id = agent_id or AGENT_ID
        agent_name = agent_name or AGENT_NAME
    page = render_page(agent_id, agent_name).encode()
    script = (STATIC_DIR / "chat.js").read_bytes()
    style = (STATIC_DIR / "chat.css").read_bytes()

    def serve(body: bytes, media_type: str) -> Response:
        return Response(body, media_type=media_type, headers=dict(SECURITY_HEADERS))

    router = APIRouter(include_in_schema=False)

    async def chat_page() -> Response:
        return serve(page, "text/html; charset=utf-8")

    async def chat_script() -> Response:
        return serve(script, "text/javascript; charset=utf-8")

    async def chat_style() -> Response:
        return serve(style, "text/css; charset=utf-8")

    for path in PAGE_PATHS:
        router.add_api_route(path, chat_page, methods=["GET"], name=f"chat_page:{path}")
    router.add_api_route(SCRIPT_PATH, chat_script, methods=["GET"], name="chat_page:script")
    router.add_api_route(STYLE_PATH, chat_style, methods=["GET"], name="chat_page:style")

    routes = app.router.routes
    before = len(routes)
    app.include_router(router)
    added = routes[before:]
    del routes[before:]
    routes[0:0] = added  # ahead of Parlant's ``GET /`` redirect (development mode)
