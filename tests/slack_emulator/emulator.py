"""``SlackEmulator``: a local Slack for tests, on 127.0.0.1 and a free port.

The app talks to it with slack-sdk (``AsyncWebClient(base_url=emulator.api_url)``) and
receives what people do over HTTP (``use_http(request_url)``) or Socket Mode
(``use_socket_mode()``). Tests act as people (``post_message``, ``run_slash_command``,
``open_app_home`` ...) and read what Slack shows (``messages``, ``thread``, ``home_view`` ...).

The default workspace (``workspace.default_workspace``) has full members, guests, a Slack
Connect user and a user group, so tests can tell who may act for the workspace. Failures are
injected with ``fail_next`` (nothing happens), ``lose_response_after_write`` (it happens, the
answer is lost), ``refuse_thread``, ``delay_next`` and ``outage``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from aiohttp import web

from tests.slack_emulator import (
    interactions,
    methods_chat,
    methods_people,
    methods_read,
    methods_views,
    payloads,
    people,
)
from tests.slack_emulator.delivery import Attempt, Deliverer, Delivery
from tests.slack_emulator.faults import FaultPlan
from tests.slack_emulator.http_transport import HttpTransport, RequestUrls
from tests.slack_emulator.limits import RateLimiter
from tests.slack_emulator.messages import Message
from tests.slack_emulator.records import ApiCall, Ephemeral, View, ViewState
from tests.slack_emulator.responses import ResponseUrlEndpoint, ResponseUrlPost
from tests.slack_emulator.socket_mode import SocketModeServer
from tests.slack_emulator.spec_requests import SpecViolation
from tests.slack_emulator.state import Credentials, SlackState
from tests.slack_emulator.web_api import WebApi
from tests.slack_emulator.workspace import Workspace, default_workspace

JsonDict = dict[str, Any]

DEFAULT_SUBSCRIPTIONS = frozenset({"message.channels", "message.groups", "message.im"})
_MESSAGE_SUBSCRIPTION = {
    "channel": "message.channels",
    "group": "message.groups",
    "im": "message.im",
    "mpim": "message.mpim",
}


class SlackEmulator:
    """One emulated workspace with the app installed. Start it with ``async with``."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        credentials: Credentials | None = None,
        *,
        rate_limits: bool = True,
    ) -> None:
        self.state = SlackState(
            workspace=workspace or default_workspace(), credentials=credentials or Credentials()
        )
        self.state.emit = self._emit
        self.faults = FaultPlan()
        self.limiter = RateLimiter(enabled=rate_limits)
        self.deliverer = Deliverer()
        self.socket = SocketModeServer(self.state)
        self.subscribed_events: set[str] = set(DEFAULT_SUBSCRIPTIONS)
        self.violations_expected = False
        self._web_api = self._build_web_api()
        self._response_urls = ResponseUrlEndpoint(self.state)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._duplicate_next: bool | None = None
        self.base_url = ""

    def _build_web_api(self) -> WebApi:
        api = WebApi(self.state, self.faults, self.limiter)
        api.register(methods_chat.HANDLERS)
        api.register(methods_read.HANDLERS)
        api.register(methods_people.HANDLERS)
        api.register(methods_views.HANDLERS)
        api.register({"apps.connections.open": self.socket.connections_open})
        return api

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> SlackEmulator:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._web_api.handle)
        app.router.add_get("/socket-mode/{ticket}", self.socket.handle)
        app.router.add_post("/response/{token}", self._response_urls.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/"
        self._web_api.base_url = self.base_url
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        await self.deliverer.close()
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SlackEmulator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- addresses and credentials -------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """``base_url`` for slack-sdk clients: ``http://127.0.0.1:<port>/api/``."""
        return f"{self.base_url}api/"

    @property
    def workspace(self) -> Workspace:
        return self.state.workspace

    @property
    def bot_token(self) -> str:
        return self.state.credentials.bot_token

    @property
    def app_token(self) -> str:
        return self.state.credentials.app_token

    @property
    def signing_secret(self) -> str:
        return self.state.credentials.signing_secret

    # --- how Slack reaches the app --------------------------------------------------------------

    def use_http(
        self,
        request_url: str,
        *,
        commands_url: str | None = None,
        interactivity_url: str | None = None,
    ) -> None:
        """Deliver events, commands and interactions as signed POSTs (Bolt: one URL for all)."""
        if self._session is None:
            raise RuntimeError("start the emulator before choosing a delivery mode")
        urls = RequestUrls(
            request_url, commands_url or request_url, interactivity_url or request_url
        )
        self.deliverer.transport = HttpTransport(self._session, urls, self.signing_secret)

    def use_socket_mode(self) -> None:
        """Deliver over the Socket Mode connections the app opens with its xapp- token."""
        self.deliverer.transport = self.socket

    @property
    def rate_limits(self) -> bool:
        return self.limiter.enabled

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self.limiter.enabled = enabled

    @property
    def ack_timeout(self) -> float:
        return self.deliverer.ack_timeout

    @ack_timeout.setter
    def ack_timeout(self, seconds: float) -> None:
        self.deliverer.ack_timeout = seconds

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return self.deliverer.retry_delays

    @retry_delays.setter
    def retry_delays(self, delays: tuple[float, ...]) -> None:
        self.deliverer.retry_delays = tuple(delays)

    @property
    def duplicate_deliveries(self) -> bool:
        return self.deliverer.duplicate_deliveries

    @duplicate_deliveries.setter
    def duplicate_deliveries(self, enabled: bool) -> None:
        self.deliverer.duplicate_deliveries = enabled

    def _emit(self, event: JsonDict) -> None:
        if not self._subscribed(event):
            return
        envelope = payloads.event_envelope(self.state, event, self.state.ids.event_id())
        self.deliverer.submit_event(envelope, duplicate=self._duplicate_next)

    def _subscribed(self, event: JsonDict) -> bool:
        item = event.get("item")
        channel = event.get("channel") or (item.get("channel") if isinstance(item, dict) else None)
        if isinstance(channel, str) and not self.workspace.bot_is_member(channel):
            return False
        if event.get("type") == "message":
            wanted = _MESSAGE_SUBSCRIPTION.get(str(event.get("channel_type")), "")
            return wanted in self.subscribed_events
        return str(event.get("type")) in self.subscribed_events

    @contextmanager
    def _duplicate(self, duplicate: bool | None) -> Iterator[None]:
        self._duplicate_next = duplicate
        try:
            yield
        finally:
            self._duplicate_next = None

    # --- failure injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        n: int = 1,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``n`` calls of ``method`` ("*": any) fail; see FaultPlan.fail_next."""
        self.faults.fail_next(method, n, status=status, error=error, retry_after=retry_after)

    def lose_response_after_write(
        self,
        method: str,
        n: int = 1,
        *,
        status: int | None = 500,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> None:
        """The next ``n`` calls of ``method`` take effect but their answer is lost.

        ``status``: the client gets that status instead (default 500); None: the connection is
        dropped, or with ``delay`` the answer comes that many seconds late. See FaultPlan.
        """
        self.faults.lose_response_after_write(
            method, n, status=status, error=error, retry_after=retry_after, delay=delay
        )

    def refuse_thread(
        self, channel: str, thread_ts: str, error: str = "cannot_reply_to_message"
    ) -> None:
        """chat.postMessage into this thread answers ``{"ok": false, "error": error}`` for good."""
        self.faults.refuse_thread(channel, thread_ts, error)

    def accept_thread(self, channel: str, thread_ts: str) -> None:
        self.faults.accept_thread(channel, thread_ts)

    def delay_next(self, method: str, seconds: float, n: int = 1) -> None:
        self.faults.delay_next(method, seconds, n)

    @contextmanager
    def outage(self, status: int = 503) -> Iterator[None]:
        """While inside, every Web API call answers ``status`` (503: service_unavailable)."""
        with self.faults.outage(status):
            yield

    # --- spec violations ----------------------------------------------------------------------

    @property
    def spec_violations(self) -> list[SpecViolation]:
        return self.state.spec_violations

    def expect_violations(self) -> None:
        """Declare that this test makes spec violations on purpose (teardown won't fail)."""
        self.violations_expected = True

    def assert_no_spec_violations(self) -> None:
        if self.spec_violations:
            listing = "\n  ".join(str(v) for v in self.spec_violations)
            raise AssertionError(f"Slack API spec violations:\n  {listing}")

    # --- people's actions --------------------------------------------------------------------

    async def post_message(
        self,
        user_id: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        *,
        raw: bool = False,
        broadcast: bool = False,
        blocks: list[JsonDict] | None = None,
        duplicate: bool | None = None,
    ) -> str:
        """A person posts (or replies in a thread); returns the message's ts."""
        with self._duplicate(duplicate):
            return people.post_message(
                self.state,
                user_id,
                channel,
                text,
                thread_ts,
                raw=raw,
                broadcast=broadcast,
                blocks=blocks,
            ).ts

    async def post_bot_message(
        self,
        bot_user_id: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        *,
        classic: bool = False,
    ) -> str:
        return people.post_bot_message(
            self.state, bot_user_id, channel, text, thread_ts, classic=classic
        ).ts

    async def edit_message(
        self,
        user_id: str,
        channel: str,
        ts: str,
        text: str,
        *,
        raw: bool = False,
        duplicate: bool | None = None,
    ) -> str:
        """The author edits their message; returns the edit's ts (``edited.ts``)."""
        with self._duplicate(duplicate):
            message = people.edit_message(self.state, user_id, channel, ts, text, raw=raw)
        assert message.edited is not None
        return message.edited["ts"]

    async def delete_message(self, channel: str, ts: str) -> None:
        people.delete_message(self.state, channel, ts)

    async def share_file(
        self, user_id: str, channel: str, thread_ts: str | None, name: str, text: str = ""
    ) -> str:
        return people.share_file(self.state, user_id, channel, thread_ts, name, text).ts

    def open_dm(self, user_id: str) -> str:
        """The id of ``user_id``'s direct message with the app (``ids.dm_id``), opening it."""
        return self.workspace.open_dm(user_id).id

    async def add_reaction(self, user_id: str, channel: str, ts: str, name: str) -> None:
        people.react(self.state, user_id, channel, ts, name, add=True)

    async def open_app_home(self, user_id: str, *, tab: str = "home") -> None:
        """``user_id`` opens the app's App Home (its Home tab, or ``tab="messages"``).

        Slack sends ``app_home_opened`` (when ``subscribed_events`` has it) with ``channel``
        the person's DM with the app and, on the Home tab, the ``view`` last published for
        them (none before the first ``views.publish``). Delivery is in the background.
        """
        people.open_app_home(self.state, user_id, tab)

    async def run_slash_command(
        self, user_id: str, channel: str, command: str, text: str = "", thread_ts: str | None = None
    ) -> interactions.CommandResult:
        """A person runs ``command`` in ``channel`` (a channel, or their DM with the app)."""
        return await interactions.run_slash_command(
            self.state, self.deliverer, self.base_url, user_id, channel, command, text, thread_ts
        )

    async def click_button(
        self, user_id: str, channel: str, message_ts: str, action_id: str
    ) -> interactions.InteractionResult:
        return await interactions.click_button(
            self.state, self.deliverer, self.base_url, user_id, channel, message_ts, action_id
        )

    async def click_ephemeral_button(
        self, user_id: str, ephemeral: Ephemeral, action_id: str
    ) -> interactions.InteractionResult:
        """``user_id`` clicks a button of their ephemeral (see ``ephemerals``).

        The ``block_actions`` payload has ``container.is_ephemeral`` true and, as from Slack,
        no ``message``; its response_url replaces or deletes that ephemeral. ValueError if the
        ephemeral is someone else's, was deleted or replaced, or has no such button.
        """
        return await interactions.click_ephemeral_button(
            self.state, self.deliverer, self.base_url, user_id, ephemeral, action_id
        )

    async def click_home_button(
        self, user_id: str, action_id: str, value: str | None = None
    ) -> interactions.InteractionResult:
        """``user_id`` clicks a button of the Home tab the app published for them.

        The ``block_actions`` payload has ``container`` ``{"type": "view", "view_id": …}`` and
        the whole ``view``; as from Slack, no ``channel``, ``message`` or ``response_url``.
        ``value`` picks one of several buttons sharing ``action_id``. ValueError if nothing
        was published, or no (or more than one) button matches.
        """
        return await interactions.click_home_button(
            self.state, self.deliverer, user_id, action_id, value
        )

    async def open_message_shortcut(
        self, user_id: str, channel: str, message_ts: str, callback_id: str
    ) -> interactions.InteractionResult:
        return await interactions.open_message_shortcut(
            self.state, self.deliverer, self.base_url, user_id, channel, message_ts, callback_id
        )

    async def submit_view(
        self, user_id: str, view_id: str, values: dict[str, dict[str, Any]]
    ) -> interactions.InteractionResult:
        """Submit a modal the app opened; ``values`` maps block_id -> action_id -> value."""
        return await interactions.submit_view(self.state, self.deliverer, user_id, view_id, values)

    # --- what Slack shows -------------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        """The channel's top-level messages (and broadcast replies), oldest first."""
        return self.state.messages.top_level(channel)

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """The parent, then its replies, oldest first (empty if there is no such message)."""
        return self.state.messages.thread(channel, thread_ts)

    def message(self, channel: str, ts: str) -> Message | None:
        return self.state.messages.get(channel, ts)

    def reactions(self, channel: str, ts: str) -> dict[str, list[str]]:
        message = self.state.messages.get(channel, ts)
        return {name: list(users) for name, users in (message.reactions if message else {}).items()}

    def ephemerals(self, user_id: str) -> list[Ephemeral]:
        """What ``user_id`` saw privately (postEphemeral, command responses, Slack errors)."""
        return [e for e in self.state.ephemerals if e.user == user_id and not e.deleted]

    def views_opened(self, user_id: str) -> list[View]:
        return [
            v
            for v in self.state.views.values()
            if v.user == user_id and v.state is not ViewState.PUBLISHED
        ]

    def home_view(self, user_id: str) -> View | None:
        return next(
            (
                v
                for v in self.state.views.values()
                if v.user == user_id and v.state is ViewState.PUBLISHED
            ),
            None,
        )

    @property
    def calls(self) -> list[ApiCall]:
        return self.state.calls

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.state.calls if call.method == method]

    @property
    def response_url_posts(self) -> list[ResponseUrlPost]:
        return self._response_urls.posts

    @property
    def deliveries(self) -> list[Delivery]:
        return self.deliverer.deliveries

    @property
    def delivery_log(self) -> list[Attempt]:
        return self.deliverer.log

    # --- Socket Mode connections ------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        return self.socket.connected

    async def disconnect_socket_clients(self, *, graceful: bool = False) -> None:
        """Drop every Socket Mode connection (``graceful``: send "disconnect" first)."""
        await self.socket.disconnect_all(graceful=graceful)

    def refuse_socket_connections(self, refuse: bool = True) -> None:
        self.socket.accepting = not refuse

    # --- waiting ------------------------------------------------------------------------------

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every event delivery, retries included, has finished."""
        await self.deliverer.drain(timeout)

    async def wait_until(
        self,
        predicate: Callable[[], bool | Awaitable[bool]],
        timeout: float = 10.0,
        *,
        interval: float = 0.02,
        message: str | None = None,
    ) -> None:
        """Poll ``predicate`` until it holds; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            if time.monotonic() >= deadline:
                raise AssertionError(message or f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    async def wait_for_thread_reply_count(
        self, channel: str, thread_ts: str, count: int, timeout: float = 10.0
    ) -> list[Message]:
        """Wait until the thread has at least ``count`` replies; returns parent + replies."""
        await self.wait_until(
            lambda: len(self.thread(channel, thread_ts)) - 1 >= count,
            timeout,
            message=f"thread {channel}/{thread_ts} did not reach {count} replies: "
            f"{[m.text for m in self.thread(channel, thread_ts)]}",
        )
        return self.thread(channel, thread_ts)

    async def wait_for_message(
        self, channel: str, predicate: Callable[[Message], bool], timeout: float = 10.0
    ) -> Message:
        """Wait for a stored message (top level or reply) in ``channel`` matching predicate."""
        found: list[Message] = []

        def check() -> bool:
            found[:] = [
                m for m in self.state.messages.all(channel) if not m.deleted and predicate(m)
            ]
            return bool(found)

        await self.wait_until(check, timeout, message=f"no matching message in {channel}")
        return found[0]

    async def wait_for_socket_connection(self, count: int = 1, timeout: float = 10.0) -> None:
        await self.wait_until(
            lambda: self.socket.connected >= count,
            timeout,
            message="no Socket Mode client connected",
        )
