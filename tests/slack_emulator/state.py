"""The emulated Slack's data: one object owning everything Slack stores for the workspace."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.slack_emulator import ids
from tests.slack_emulator.ids import IdFactory, TsClock
from tests.slack_emulator.messages import Message, MessageStore
from tests.slack_emulator.records import (
    ApiCall,
    Ephemeral,
    EphemeralSource,
    ResponseUrl,
    Trigger,
    View,
)
from tests.slack_emulator.spec_requests import SpecViolation
from tests.slack_emulator.workspace import Workspace, default_workspace

JsonDict = dict[str, Any]

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_TTL_SECONDS = 30 * 60
RESPONSE_URL_MAX_USES = 5


@dataclass(frozen=True)
class Credentials:
    bot_token: str = ids.BOT_TOKEN
    app_token: str = ids.APP_TOKEN
    signing_secret: str = ids.SIGNING_SECRET
    verification_token: str = ids.VERIFICATION_TOKEN


@dataclass
class SlackState:
    """Messages, ephemerals, views, triggers, response URLs and the log of API calls.

    ``emit`` is how a change reaches the app: it receives Events API ``event`` objects and is
    wired by the emulator to the delivery machinery (it does nothing until then).
    """

    workspace: Workspace = field(default_factory=default_workspace)
    credentials: Credentials = field(default_factory=Credentials)
    clock: TsClock = field(default_factory=TsClock)
    ids: IdFactory = field(default_factory=IdFactory)
    messages: MessageStore = field(default_factory=MessageStore)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    views: dict[str, View] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    response_urls: dict[str, ResponseUrl] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    spec_violations: list[SpecViolation] = field(default_factory=list)
    emit: Callable[[JsonDict], None] = lambda _event: None
    trigger_ttl: float = TRIGGER_TTL_SECONDS

    # --- messages ---------------------------------------------------------------------------

    def store_message(self, message: Message) -> Message:
        self.messages.add(message)
        return message

    def new_message(self, channel: str, author: str, text: str, **fields: Any) -> Message:
        """A message by ``author`` (a user id) stamped with a fresh ts; not yet stored."""
        user = self.workspace.user(author)
        return Message(
            channel=channel,
            ts=self.clock.next(),
            text=text,
            user=user.id,
            team=user.team_id or self.workspace.team_id,
            bot_id=user.bot_id,
            app_id=user.app_id,
            **fields,
        )

    def thread_parent(self, channel: str, thread_ts: str | None) -> Message | None:
        """The message a reply to ``thread_ts`` hangs under, as Slack resolves it."""
        if not thread_ts:
            return None
        parent = self.messages.get_including_tombstones(channel, thread_ts)
        if parent is None:
            return None
        if parent.is_reply:
            # Replying "to a reply" lands in the reply's thread.
            return self.messages.get_including_tombstones(channel, parent.thread_ts or "")
        return parent

    # --- ephemerals -------------------------------------------------------------------------

    def add_ephemeral(
        self,
        user: str,
        channel: str,
        text: str,
        source: EphemeralSource,
        *,
        blocks: list[JsonDict] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        ephemeral = Ephemeral(
            user=user,
            channel=channel,
            text=text,
            source=source,
            ts=self.clock.next(),
            blocks=blocks,
            thread_ts=thread_ts,
        )
        self.ephemerals.append(ephemeral)
        return ephemeral

    # --- triggers and response URLs ----------------------------------------------------------

    def new_trigger(self, user: str) -> str:
        trigger = Trigger(id=self.ids.trigger_id(), user=user)
        self.triggers[trigger.id] = trigger
        return trigger.id

    def trigger_problem(self, trigger_id: str) -> str | None:
        """None if the trigger may be exchanged now, else Slack's complaint."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            return "invalid `trigger_id`"
        if trigger.used:
            return "`trigger_id` already exchanged"
        if time.monotonic() - trigger.created > self.trigger_ttl:
            return "`trigger_id` expired [json-pointer:/trigger_id]"
        return None

    def new_response_url(self, base_url: str, user: str, channel: str, **context: Any) -> str:
        token = self.ids.next("R", 12)
        self.response_urls[token] = ResponseUrl(token=token, user=user, channel=channel, **context)
        return f"{base_url}response/{token}"

    def take_response_url(self, token: str) -> ResponseUrl | None:
        """The response URL if it may still be used (and counts the use)."""
        response_url = self.response_urls.get(token)
        if response_url is None:
            return None
        expired = time.monotonic() - response_url.created > RESPONSE_URL_TTL_SECONDS
        if expired or response_url.uses >= RESPONSE_URL_MAX_USES:
            return None
        response_url.uses += 1
        return response_url
