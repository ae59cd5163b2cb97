"""Records the emulator keeps besides channel messages: API calls, ephemerals, views, triggers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonDict = dict[str, Any]


class Answer(StrEnum):
    """What became of the answer to a Web API call."""

    SENT = "sent"  # answered normally (or with the injected/real error)
    REPLACED = "replaced"  # handled, but the client got an error status instead of the answer
    DROPPED = "dropped"  # handled, but the connection was closed without an answer
    DELAYED = "delayed"  # handled, and answered late (``lose_response_after_write(delay=)``)


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the emulator answered it.

    ``response`` and ``http_status`` are what the client was sent (``{}`` and 0 when the
    connection was dropped). When the answer was lost after the call took effect, ``handled``
    holds the answer Slack had computed (e.g. chat.postMessage's ``ts``).
    """

    method: str
    params: JsonDict
    http_status: int
    response: JsonDict
    token_kind: str | None
    at: float = field(default_factory=time.monotonic)
    answer: Answer = Answer.SENT
    handled: JsonDict | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return str(error) if error is not None else None


class EphemeralSource(StrEnum):
    POST_EPHEMERAL = "chat.postEphemeral"
    RESPONSE_URL = "response_url"
    COMMAND_RESPONSE = "command_response"
    SLACKBOT = "slackbot"


@dataclass
class Ephemeral:
    """Something only ``user`` saw: chat.postEphemeral, a response_url reply, a Slack error."""

    user: str
    channel: str
    text: str
    source: EphemeralSource
    ts: str
    blocks: list[JsonDict] | None = None
    thread_ts: str | None = None
    deleted: bool = False


class ViewState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


@dataclass
class View:
    """A modal opened for (or a Home tab published to) a user by the app."""

    id: str
    user: str
    view: JsonDict
    hash: str
    team_id: str
    app_id: str
    bot_id: str
    state: ViewState = ViewState.OPEN
    root_view_id: str | None = None
    previous_view_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    submissions: int = 0

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata", ""))

    @property
    def blocks(self) -> list[JsonDict]:
        blocks = self.view.get("blocks", [])
        return blocks if isinstance(blocks, list) else []

    def to_api(self) -> JsonDict:
        view = self.view
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": self.blocks,
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": self.hash,
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": self.root_view_id or self.id,
            "previous_view_id": self.previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


@dataclass
class Trigger:
    """A trigger_id handed to the app with an interaction; one views.open within 3 s."""

    id: str
    user: str
    created: float = field(default_factory=time.monotonic)
    used: bool = False


@dataclass
class ResponseUrl:
    """A response_url handed to the app: up to 5 uses within 30 minutes, like Slack.

    ``replace_original``/``delete_original`` act on ``message_ts`` (a button on a channel
    message) or else on ``ephemeral_ts``. ``from_ephemeral`` marks a click on the ephemeral
    ``ephemeral_ts``: that stays the original until replaced. Otherwise (commands, shortcuts)
    the original is the latest ephemeral shown through this URL.
    """

    token: str
    user: str
    channel: str
    command: str | None = None
    message_ts: str | None = None
    ephemeral_ts: str | None = None
    from_ephemeral: bool = False
    uses: int = 0
    created: float = field(default_factory=time.monotonic)
