"""The emulated workspace: the app's bot, people, other bots, channels, DMs and user groups.

People come in three kinds, as Slack has them:

- full members of the workspace (``is_restricted`` and ``is_ultra_restricted`` false);
- guests: multi-channel guests (``is_restricted``) and single-channel guests (``is_restricted``
  and ``is_ultra_restricted``; Slack keeps them in one channel);
- Slack Connect users: members of another organization's workspace (their ``team_id``) who
  share a channel with this one. A channel with such a member is externally shared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.slack_emulator import ids


@dataclass
class User:
    """A person or bot Slack knows. Bots have ``bot_id`` and ``app_id`` set.

    ``team_id`` is the user's own workspace; None until the user joins a ``Workspace``, which
    sets it to its own team (Slack Connect users keep theirs).
    """

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
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    team_id: str | None = None

    @property
    def is_guest(self) -> bool:
        return self.is_restricted or self.is_ultra_restricted


@dataclass
class Channel:
    """A public or private channel, or (``is_im``) the app's direct message with ``im_user``."""

    id: str
    name: str
    is_private: bool = False
    members: set[str] = field(default_factory=set)
    created: int = field(default_factory=lambda: int(time.time()) - 86_400)
    creator: str = ids.ALICE
    topic: str = ""
    purpose: str = ""
    is_archived: bool = False
    is_im: bool = False
    im_user: str | None = None

    @property
    def channel_type(self) -> str:
        """The ``channel_type`` of message events: "channel", "group" (private) or "im"."""
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"


@dataclass
class UserGroup:
    """A user group (``S…``, mentioned as ``@handle``), as usergroups.* show it."""

    id: str
    handle: str
    name: str
    team_id: str
    users: list[str] = field(default_factory=list)
    description: str = ""
    enabled: bool = True
    created_by: str = ids.ALICE
    date_create: int = 1_700_000_000


@dataclass
class Workspace:
    """Who and what exists. The app is identified by ``app_id`` and its bot user ``bot``.

    ``app_installed_teams`` are the workspaces where the app is installed: Slack offers the
    app's slash commands only to their users (a Slack Connect user from elsewhere gets
    "not a valid command").
    """

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
    usergroups: dict[str, UserGroup] = field(default_factory=dict)
    external_teams: dict[str, str] = field(default_factory=dict)
    app_installed_teams: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.users.setdefault(self.bot.id, self.bot)
        for user in self.users.values():
            if user.team_id is None:
                user.team_id = self.team_id
        self.app_installed_teams.add(self.team_id)

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"

    # --- building ---------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, real_name: str, display_name: str = "", **extra: object
    ) -> User:
        """A full member (unless ``extra`` says otherwise, e.g. ``is_restricted=True``)."""
        user = User(id=user_id, name=name, real_name=real_name, display_name=display_name)
        for key, value in extra.items():
            if not hasattr(user, key):
                raise TypeError(f"User has no field {key!r}")
            setattr(user, key, value)
        if user.team_id is None:
            user.team_id = self.team_id
        self.users[user_id] = user
        return user

    def add_guest(
        self,
        user_id: str,
        name: str,
        real_name: str,
        display_name: str = "",
        *,
        single_channel: bool = False,
        **extra: object,
    ) -> User:
        """A multi-channel guest, or (``single_channel``) a single-channel guest."""
        return self.add_user(
            user_id,
            name,
            real_name,
            display_name,
            is_restricted=True,
            is_ultra_restricted=single_channel,
            **extra,
        )

    def add_external_user(
        self,
        user_id: str,
        name: str,
        real_name: str,
        team_id: str,
        display_name: str = "",
        *,
        team_domain: str | None = None,
        **extra: object,
    ) -> User:
        """A Slack Connect user: a member of workspace ``team_id`` (not this one)."""
        if team_id == self.team_id:
            raise ValueError("a Slack Connect user belongs to another workspace")
        self.external_teams.setdefault(team_id, team_domain or team_id.lower())
        return self.add_user(user_id, name, real_name, display_name, team_id=team_id, **extra)

    def add_bot(self, user_id: str, bot_id: str, app_id: str, name: str) -> User:
        bot = User(
            id=user_id,
            name=name,
            real_name=name,
            is_bot=True,
            bot_id=bot_id,
            app_id=app_id,
            team_id=self.team_id,
        )
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
        """A channel; ``members`` defaults to every full member (no guests, no outsiders)."""
        channel = Channel(id=channel_id, name=name, is_private=private)
        self.channels[channel_id] = channel
        for user_id in set(members) if members is not None else set(self.full_members()):
            self.join(channel_id, user_id)
        if bot_member:
            channel.members.add(self.bot.id)
        return channel

    def add_usergroup(
        self,
        group_id: str,
        handle: str,
        members: list[str] | set[str] | tuple[str, ...],
        *,
        name: str | None = None,
        description: str = "",
    ) -> UserGroup:
        """A user group (``S…``) of ``members``, mentioned as ``@handle``."""
        users = [self.user(user_id).id for user_id in members]
        group = UserGroup(
            id=group_id,
            handle=handle,
            name=name or handle.replace("-", " ").title(),
            team_id=self.team_id,
            users=list(dict.fromkeys(users)),
            description=description,
        )
        self.usergroups[group_id] = group
        return group

    def open_dm(self, user_id: str) -> Channel:
        """The app's direct message with ``user_id`` (``ids.dm_id(user_id)``), opened if new."""
        user = self.user(user_id)
        if user.is_bot:
            raise ValueError(f"{user_id} is a bot; the emulator models DMs with people only")
        channel_id = ids.dm_id(user.id)
        channel = self.channels.get(channel_id)
        if channel is None:
            channel = Channel(
                id=channel_id,
                name="",
                is_private=True,
                members={user.id, self.bot.id},
                creator=user.id,
                is_im=True,
                im_user=user.id,
            )
            self.channels[channel_id] = channel
        return channel

    def join(self, channel_id: str, user_id: str) -> None:
        channel = self.channel(channel_id)
        user = self.user(user_id)
        if channel.is_im:
            raise ValueError("nobody joins a direct message")
        if user.is_ultra_restricted:
            elsewhere = [
                c.id
                for c in self.channels.values()
                if not c.is_im and c.id != channel_id and user.id in c.members
            ]
            if elsewhere:
                raise ValueError(
                    f"{user.id} is a single-channel guest, already in {elsewhere[0]}; "
                    "Slack keeps them in one channel"
                )
        channel.members.add(user.id)

    def leave(self, channel_id: str, user_id: str) -> None:
        self.channel(channel_id).members.discard(user_id)

    # --- lookups ----------------------------------------------------------------------------

    def user(self, user_id: str) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"no user {user_id!r} in the emulated workspace") from None

    def channel(self, channel_id: str) -> Channel:
        """The channel; a person's DM with the app (``ids.dm_id``) opens on first use."""
        channel = self.channels.get(channel_id)
        if channel is not None:
            return channel
        person = next(
            (u for u in self.users.values() if not u.is_bot and ids.dm_id(u.id) == channel_id),
            None,
        )
        if person is not None:
            return self.open_dm(person.id)
        raise KeyError(f"no channel {channel_id!r} in the emulated workspace")

    def usergroup(self, group_id: str) -> UserGroup:
        try:
            return self.usergroups[group_id]
        except KeyError:
            raise KeyError(f"no user group {group_id!r} in the emulated workspace") from None

    def humans(self) -> list[str]:
        """Every person Slack shows here: full members, guests and Slack Connect users."""
        return [user.id for user in self.users.values() if not user.is_bot]

    def full_members(self) -> list[str]:
        """People of this workspace who are not guests (and not deactivated)."""
        return [
            user.id
            for user in self.users.values()
            if not user.is_bot
            and not user.is_guest
            and not user.deleted
            and self.team_of(user.id) == self.team_id
        ]

    def team_of(self, user_id: str) -> str:
        """The workspace ``user_id`` belongs to (another team for Slack Connect users)."""
        return self.user(user_id).team_id or self.team_id

    def team_domain(self, team_id: str) -> str:
        if team_id == self.team_id:
            return self.domain
        return self.external_teams.get(team_id, team_id.lower())

    def is_external(self, user_id: str) -> bool:
        return self.team_of(user_id) != self.team_id

    def is_ext_shared(self, channel_id: str) -> bool:
        """True when a member of another workspace is in the channel (Slack Connect)."""
        channel = self.channels.get(channel_id)
        return channel is not None and any(
            user_id in self.users and self.is_external(user_id) for user_id in channel.members
        )

    def bot_user_by_bot_id(self, bot_id: str) -> User | None:
        return next((u for u in self.users.values() if u.bot_id == bot_id), None)

    def is_member(self, channel_id: str, user_id: str) -> bool:
        channel = self.channels.get(channel_id)
        return channel is not None and user_id in channel.members

    def bot_is_member(self, channel_id: str) -> bool:
        return self.is_member(channel_id, self.bot.id)


def default_workspace() -> Workspace:
    """Four full members, two guests, a Slack Connect user, another app's bot, three channels.

    - ``C0HANDOFF`` (#handoff, public, externally shared): Alice, Bob, Carol, the guest
      ``GUEST``, the single-channel guest ``SINGLE_GUEST``, ``EXTERNAL`` (of workspace
      ``OTHER_TEAM_ID``), the other app's bot and the app's bot. Not Dave.
    - ``C0GENERAL`` (#general, public): the full members (Alice, Bob, Carol, Dave), not the
      app's bot.
    - ``C0PRIVATE`` (#escalations, private): Alice, Bob and the app's bot.
    - User group ``S0SUPPORT`` (@support): Alice and Bob.
    - Each person's direct message with the app (``ids.dm_id(user)``) opens on first use.
    """
    workspace = Workspace()
    workspace.add_user(ids.ALICE, "alice", "Alice Agent", "alice", email="alice@example.com")
    workspace.add_user(ids.BOB, "bob", "Bob Builder", "bob", email="bob@example.com")
    workspace.add_user(ids.CAROL, "carol", "Carol Chen", "", email="carol@example.com")
    workspace.add_user(ids.DAVE, "dave", "Dave Dunn", "dave", email="dave@example.com")
    workspace.add_guest(ids.GUEST, "gina", "Gina Guest", "gina", email="gina@partner.example")
    workspace.add_guest(
        ids.SINGLE_GUEST,
        "sam",
        "Sam Single",
        "sam",
        single_channel=True,
        email="sam@contractor.example",
    )
    workspace.add_external_user(
        ids.EXTERNAL,
        "erin",
        "Erin External",
        ids.OTHER_TEAM_ID,
        "erin",
        team_domain=ids.OTHER_TEAM_DOMAIN,
        email="erin@otherco.example",
    )
    workspace.add_bot(ids.OTHER_BOT_USER_ID, ids.OTHER_BOT_ID, ids.OTHER_APP_ID, "otherbot")
    workspace.add_channel(
        ids.HANDOFF_CHANNEL,
        "handoff",
        members={
            ids.ALICE,
            ids.BOB,
            ids.CAROL,
            ids.GUEST,
            ids.SINGLE_GUEST,
            ids.EXTERNAL,
            ids.OTHER_BOT_USER_ID,
        },
    )
    workspace.add_channel(ids.GENERAL_CHANNEL, "general", bot_member=False)
    workspace.add_channel(
        ids.PRIVATE_CHANNEL, "escalations", private=True, members={ids.ALICE, ids.BOB}
    )
    workspace.add_usergroup(
        ids.SUPPORT_GROUP, ids.SUPPORT_HANDLE, [ids.ALICE, ids.BOB], name="Support"
    )
    return workspace
