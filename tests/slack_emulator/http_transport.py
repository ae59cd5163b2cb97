"""Delivery over HTTP: signed POSTs to the app's request URLs, like Slack's."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.slack_emulator.delivery import Kind, Outcome, Reply
from tests.slack_emulator.signing import signed_headers

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class RequestUrls:
    """Where Slack sends events, slash commands and interactions (one URL with Bolt)."""

    events: str
    commands: str
    interactivity: str

    def for_kind(self, kind: Kind) -> str:
        if kind is Kind.SLASH_COMMANDS:
            return self.commands
        if kind is Kind.INTERACTIVE:
            return self.interactivity
        return self.events


def encode(kind: Kind, payload: JsonDict) -> tuple[bytes, str]:
    """The body Slack sends: JSON for events, a form for commands, ``payload=`` for actions."""
    if kind is Kind.EVENTS_API:
        return json.dumps(payload).encode(), "application/json"
    if kind is Kind.SLASH_COMMANDS:
        return urlencode(payload).encode(), "application/x-www-form-urlencoded"
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


class HttpTransport:
    name = "http"

    def __init__(self, session: aiohttp.ClientSession, urls: RequestUrls, secret: str) -> None:
        self.session = session
        self.urls = urls
        self.secret = secret

    async def send(
        self,
        kind: Kind,
        payload: JsonDict,
        *,
        retry_num: int,
        retry_reason: str | None,
        timeout: float,
    ) -> Reply:
        body, content_type = encode(kind, payload)
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        headers.update(signed_headers(self.secret, body))
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_error"
        try:
            async with asyncio.timeout(timeout):
                async with self.session.post(
                    self.urls.for_kind(kind), data=body, headers=headers
                ) as response:
                    answer = await response.read()
                    status = response.status
                    answer_type = response.content_type
        except TimeoutError:
            return Reply(Outcome.TIMEOUT)
        except (aiohttp.ClientError, OSError):
            return Reply(Outcome.CONNECTION_FAILED)
        outcome = Outcome.ACKED if 200 <= status < 300 else Outcome.HTTP_ERROR
        return Reply(outcome, status, answer, answer_type, _json_or_none(answer, answer_type))


def _json_or_none(body: bytes, content_type: str) -> JsonDict | None:
    if not body.strip():
        return None
    if content_type == "application/json":
        try:
            value = json.loads(body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return {"text": body.decode("utf-8", "replace")}
