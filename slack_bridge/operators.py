"""Who may speak to customers: the operator check behind every Slack entry point.

An operator is a full member of the app's own workspace — never a guest
(``is_restricted``, ``is_ultra_restricted``), a bot, a deactivated account or a user of
another team (Slack Connect) — who is, by default, a member of the handoff channel; with
``SLACK_OPERATORS`` set, who is listed there by user id or through a user group instead.
Slack's answers are cached for ``ttl`` seconds, so a burst of replies costs one look-up.
"""

import asyncio
import enum
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.ids import ChannelId, UserId

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
PAGE_SIZE = 200
T = TypeVar("T")


class Verdict(enum.Enum):
    OPERATOR = "operator"
    GUEST = "guest"
    EXTERNAL = "external"
    NOT_OPERATOR = "not_operator"
    UNKNOWN = "unknown"
    """Slack could not be asked: refused for now, never assumed."""

    @property
    def allowed(self) -> bool:
        return self is Verdict.OPERATOR


REFUSALS = {
    Verdict.GUEST: "Guests cannot answer customers.",
    Verdict.EXTERNAL: "People from other organisations cannot answer customers.",
    Verdict.NOT_OPERATOR: "Only the support team's operators can answer customers.",
    Verdict.UNKNOWN: "Slack could not confirm that you are an operator; try again in a minute.",
}


@dataclass(frozen=True)
class OperatorRule:
    """``SLACK_OPERATORS``: user ids (``U…``/``W…``) and user-group ids (``S…``)."""

    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    @property
    def channel_members(self) -> bool:
        """No list given: the handoff channel's members are the operators."""
        return not self.users and not self.groups


@dataclass(frozen=True)
class _Person:
    team_id: str
    guest: bool
    bot_or_gone: bool


class _Cached(Generic[T]):
    """One value from Slack, refreshed after ``ttl``; concurrent callers share one call."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._values: dict[str, tuple[float, T]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._values.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            value = await fetch()
            self._values[key] = (time.monotonic() + self._ttl, value)
            return value


class OperatorGate:
    def __init__(
        self,
        client: AsyncWebClient,
        channel: ChannelId,
        rule: OperatorRule,
        ttl: float = CACHE_SECONDS,
        channels: frozenset[ChannelId] = frozenset(),
    ) -> None:
        self._client = client
        self._channel = channel
        self._channels = channels | {channel}
        """The channels handoffs go to: only their members can be operators."""
        self._rule = rule
        self._people: _Cached[_Person] = _Cached(ttl)
        self._sets: _Cached[frozenset[str]] = _Cached(ttl)
        self._team: str | None = None

    async def check(
        self, user: UserId, user_team: str | None = None, channel: ChannelId | None = None
    ) -> Verdict:
        """Whether ``user`` may speak to the customers of ``channel`` (default, and for any
        channel handoffs do not go to — a DM is not a team: the handoff channel;
        ``user_team`` from the event, if any)."""
        if channel not in self._channels:
            channel = self._channel
        try:
            return await self._check(user, user_team, channel)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else error
            logger.warning("could not check whether %s is an operator: %s", user, reason)
            return Verdict.UNKNOWN

    async def _check(self, user: UserId, user_team: str | None, channel: ChannelId) -> Verdict:
        team = await self._own_team()
        if user_team and user_team != team:
            return Verdict.EXTERNAL
        person = await self._people.get(user, lambda: self._person(user))
        if person.bot_or_gone:
            return Verdict.NOT_OPERATOR
        if person.team_id != team:
            return Verdict.EXTERNAL
        if person.guest:
            return Verdict.GUEST
        if self._rule.channel_members:
            members = await self._sets.get(
                f"channel:{channel}", functools.partial(self._channel_members, channel)
            )
            return Verdict.OPERATOR if user in members else Verdict.NOT_OPERATOR
        if user in self._rule.users:
            return Verdict.OPERATOR
        for group in sorted(self._rule.groups):
            if user in await self._sets.get(
                f"group:{group}", functools.partial(self._group, group)
            ):
                return Verdict.OPERATOR
        return Verdict.NOT_OPERATOR

    async def _own_team(self) -> str:
        if self._team is None:
            response = await self._client.auth_test()
            self._team = str(response["team_id"])
        return self._team

    async def _person(self, user: UserId) -> _Person:
        info: dict[str, Any] = (await self._client.users_info(user=user))["user"]
        return _Person(
            team_id=str(info.get("team_id") or ""),
            guest=bool(info.get("is_restricted") or info.get("is_ultra_restricted")),
            bot_or_gone=bool(info.get("is_bot") or info.get("deleted")),
        )

    async def _channel_members(self, channel: ChannelId) -> frozenset[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            response = await self._client.conversations_members(
                channel=channel, limit=PAGE_SIZE, cursor=cursor
            )
            members.update(response.get("members") or ())
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(members)

    async def _group(self, group: str) -> frozenset[str]:
        response = await self._client.usergroups_users_list(usergroup=group)
        return frozenset(response.get("users") or ())
