"""The emulated workspace: the app's bot, human users, other bots, channels and membership."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.slack_emulator import ids


@dataclass
class User:
    """A member of the workspace. Bots have ``bot_id`` and ``app_id`` set."""

    id: str
    name: str
    real_name: str
    display_name: str = ""
    is_bot: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    email: str | None = None
    deleted: bool = False
    tz: str = "Europe/London"


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    members: set[str] = field(default_factory=set)
    created: int = field(default_factory=lambda: int(time.time()) - 86_400)
    creator: str = ids.ALICE
    topic: str = ""
    purpose: str = ""
    is_archived: bool = False

    @property
    def channel_type(self) -> str:
        """The ``channel_type`` of message events: "channel" (public) or "group" (private)."""
        return "group" if self.is_private else "channel"


@dataclass
class Workspace:
    """Who and what exists. The app is identified by ``app_id`` and its bot user ``bot``."""

    team_id: str = ids.TEAM_ID
    team_name: str = ids.TEAM_NAME
    domain: str = ids.TEAM_DOMAIN
    app_id: str = ids.APP_ID
    bot: User = field(
        default_factory=lambda: User(
            id=ids.BOT_USER_ID,
            name=ids.BOT_NAME,
            real_name="Handoff Bridge",
            is_bot=True,
            bot_id=ids.BOT_ID,
            app_id=ids.APP_ID,
        )
    )
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.users.setdefault(self.bot.id, self.bot)

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"

    # --- building ---------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, real_name: str, display_name: str = "", **extra: object
    ) -> User:
        user = User(id=user_id, name=name, real_name=real_name, display_name=display_name)
        for key, value in extra.items():
            setattr(user, key, value)
        self.users[user_id] = user
        return user

    def add_bot(self, user_id: str, bot_id: str, app_id: str, name: str) -> User:
        bot = User(id=user_id, name=name, real_name=name, is_bot=True, bot_id=bot_id, app_id=app_id)
        self.users[user_id] = bot
        return bot

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        private: bool = False,
        members: set[str] | None = None,
        bot_member: bool = True,
    ) -> Channel:
        channel = Channel(id=channel_id, name=name, is_private=private)
        channel.members = set(members) if members is not None else set(self.humans())
        if bot_member:
            channel.members.add(self.bot.id)
        self.channels[channel_id] = channel
        return channel

    def join(self, channel_id: str, user_id: str) -> None:
        self.channel(channel_id).members.add(self.user(user_id).id)

    def leave(self, channel_id: str, user_id: str) -> None:
        self.channel(channel_id).members.discard(user_id)

    # --- lookups ----------------------------------------------------------------------------

    def user(self, user_id: str) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"no user {user_id!r} in the emulated workspace") from None

    def channel(self, channel_id: str) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise KeyError(f"no channel {channel_id!r} in the emulated workspace") from None

    def humans(self) -> list[str]:
        return [user.id for user in self.users.values() if not user.is_bot]

    def bot_user_by_bot_id(self, bot_id: str) -> User | None:
        return next((u for u in self.users.values() if u.bot_id == bot_id), None)

    def is_member(self, channel_id: str, user_id: str) -> bool:
        channel = self.channels.get(channel_id)
        return channel is not None and user_id in channel.members

    def bot_is_member(self, channel_id: str) -> bool:
        return self.is_member(channel_id, self.bot.id)


def default_workspace() -> Workspace:
    """Three humans, another app's bot, and three channels.

    - ``C0HANDOFF`` (#handoff, public): everyone, including the app's bot.
    - ``C0GENERAL`` (#general, public): the humans, not the app's bot.
    - ``C0PRIVATE`` (#escalations, private): Alice, Bob and the app's bot.
    """
    workspace = Workspace()
    workspace.add_user(ids.ALICE, "alice", "Alice Agent", "alice", email="alice@example.com")
    workspace.add_user(ids.BOB, "bob", "Bob Builder", "bob", email="bob@example.com")
    workspace.add_user(ids.CAROL, "carol", "Carol Chen", "", email="carol@example.com")
    workspace.add_bot(ids.OTHER_BOT_USER_ID, ids.OTHER_BOT_ID, ids.OTHER_APP_ID, "otherbot")
    workspace.add_channel(ids.HANDOFF_CHANNEL, "handoff")
    workspace.channel(ids.HANDOFF_CHANNEL).members.add(ids.OTHER_BOT_USER_ID)
    workspace.add_channel(ids.GENERAL_CHANNEL, "general", bot_member=False)
    workspace.add_channel(
        ids.PRIVATE_CHANNEL, "escalations", private=True, members={ids.ALICE, ids.BOB}
    )
    return workspace
