"""A local Slack for the test suite: Web API, Events API, Socket Mode, commands, modals and
the App Home.

See ``emulator.SlackEmulator`` for the operator-facing API, ``workspace.default_workspace``
for who exists (full members, guests, a Slack Connect user, a user group), ``faults`` for
failure injection and ``fixtures`` for pytest use.
"""

from tests.slack_emulator import ids
from tests.slack_emulator.delivery import Attempt, Delivery, Kind, Outcome
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.interactions import CommandResult, InteractionResult
from tests.slack_emulator.messages import Message
from tests.slack_emulator.records import (
    Answer,
    ApiCall,
    Ephemeral,
    EphemeralSource,
    View,
    ViewState,
)
from tests.slack_emulator.serving import serve
from tests.slack_emulator.spec_requests import SpecViolation, ViolationKind
from tests.slack_emulator.state import Credentials
from tests.slack_emulator.workspace import Channel, User, UserGroup, Workspace, default_workspace

__all__ = [
    "Answer",
    "ApiCall",
    "Attempt",
    "Channel",
    "CommandResult",
    "Credentials",
    "Delivery",
    "Ephemeral",
    "EphemeralSource",
    "InteractionResult",
    "Kind",
    "Message",
    "Outcome",
    "SlackEmulator",
    "SpecViolation",
    "User",
    "UserGroup",
    "View",
    "ViewState",
    "ViolationKind",
    "Workspace",
    "default_workspace",
    "ids",
    "serve",
]
