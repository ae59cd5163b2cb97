"""Customers reach their own session only.

Parlant's production rules let anyone who knows a session id read its events and post in
it. Here a public caller must also present the session's customer token
(``X-Customer-Token``): an HMAC of the session id under a key kept in the agent's data
folder. The token is handed out once, as a response header, when a guest session is
created (``POST /sessions`` without operator token); the customer's page keeps it with
the session id. Nothing is stored per session, and tokens survive restarts.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request, Response

CUSTOMER_TOKEN_HEADER: Final = "X-Customer-Token"
KEY_FILE: Final = "customer-session.key"
SESSIONS_PATH: Final = "/sessions"


class CustomerKeys:
    """Derives and checks customer tokens."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def load_or_create(cls, home: Path) -> "CustomerKeys":
        """The key in ``home``, created (readable by this user only) on first start."""
        path = home / KEY_FILE
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(secrets.token_bytes(32))
                file.flush()
                os.fsync(file.fileno())
        return cls(path.read_bytes())

    def token_for(self, session_id: str) -> str:
        digest = hmac.new(self._key, f"customer-session:{session_id}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")

    def allows(self, request: Request) -> bool:
        """Whether ``request`` presents the token of the session in its path."""
        session_id = request.path_params.get("session_id")
        presented = request.headers.get(CUSTOMER_TOKEN_HEADER)
        if not isinstance(session_id, str) or not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.token_for(session_id).encode())


def hand_out_tokens(app: FastAPI, keys: CustomerKeys, is_public: Callable[[Request], bool]) -> None:
    """Add the customer token to the answer of every public guest-session creation."""

    @app.middleware("http")
    async def add_customer_token(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if (
            request.method != "POST"
            or request.url.path.rstrip("/") != SESSIONS_PATH
            or response.status_code != 201
            or not is_public(request)
        ):
            return response
        # call_next answers with a streaming response; a session's JSON is small.
        chunks: AsyncIterator[bytes] = getattr(response, "body_iterator")  # noqa: B009
        body = b"".join([chunk async for chunk in chunks])
        session_id = json.loads(body).get("id")
        headers = dict(response.headers)
        headers.pop("content-length", None)
        if isinstance(session_id, str):
            headers[CUSTOMER_TOKEN_HEADER] = keys.token_for(session_id)
        return Response(body, status_code=201, headers=headers, media_type=response.media_type)
