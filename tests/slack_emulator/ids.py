"""Default identifiers and credentials of the emulated workspace, and id/ts generators.

Every id matches the patterns of Slack's OpenAPI spec (e.g. team ids are ``T`` + 8 or more
characters, channel ids ``C`` + 8 or more), so the emulator's responses validate against it.
"""

from __future__ import annotations

import itertools
import string
import time
from dataclasses import dataclass, field

TEAM_ID = "T0EMULATOR"
TEAM_NAME = "Emulated Workspace"
TEAM_DOMAIN = "emulated"
ENTERPRISE_ID = None

APP_ID = "A0HANDOFF"
BOT_USER_ID = "U0HANDOFFBOT"
BOT_ID = "B0HANDOFF01"
BOT_NAME = "handoff"

BOT_TOKEN = "xoxb-1000000001-2000000002-emulatedbottokenxxxxxxxx"
APP_TOKEN = "xapp-1-A0HANDOFF-3000000003-emulatedapptokenxxxxxxxxxxxxxxxx"
SIGNING_SECRET = "0e1d2c3b4a5968778695a4b3c2d1e0f0"
VERIFICATION_TOKEN = "emulatedVerificationToken"

HANDOFF_CHANNEL = "C0HANDOFF"
GENERAL_CHANNEL = "C0GENERAL"
PRIVATE_CHANNEL = "C0PRIVATE"

# Full members of the workspace. Dave is not in #handoff.
ALICE = "U0ALICE"
BOB = "U0BOB"
CAROL = "U0CAROL"
DAVE = "U0DAVE"

# Guests of the workspace (``is_restricted``; a single-channel guest is also
# ``is_ultra_restricted``), both in #handoff only.
GUEST = "U0GUEST"
SINGLE_GUEST = "U0SINGLEGUEST"

# A Slack Connect user: a member of another organization's workspace, in #handoff.
OTHER_TEAM_ID = "T0OTHERTEAM"
OTHER_TEAM_DOMAIN = "otherco"
EXTERNAL = "U0EXTERNAL"

# A user group (``@support``) of Alice and Bob.
SUPPORT_GROUP = "S0SUPPORT"
SUPPORT_HANDLE = "support"

OTHER_BOT_USER_ID = "U0OTHERBOT"
OTHER_BOT_ID = "B0OTHERBOT"
OTHER_APP_ID = "A0OTHERAPP"


def dm_id(user_id: str) -> str:
    """The id of the direct message between ``user_id`` and the app's bot (``D0ALICE00``)."""
    return "D" + user_id[1:].ljust(8, "0")


_ALPHABET = string.digits + string.ascii_uppercase


def _base36(number: int, width: int) -> str:
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


@dataclass
class IdFactory:
    """Deterministic, unique ids in Slack's shapes (``Ev0000000001``, ``V0000000001`` ...)."""

    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next(self, prefix: str, width: int = 10) -> str:
        return prefix + _base36(next(self._counter), width)

    def event_id(self) -> str:
        return self.next("Ev")

    def envelope_id(self) -> str:
        number = next(self._counter)
        return f"{number:08x}-0000-4000-8000-{number:012x}"

    def trigger_id(self) -> str:
        number = next(self._counter)
        return f"{int(time.time() * 1000)}.{number}.{number:032x}"

    def client_msg_id(self) -> str:
        number = next(self._counter)
        return f"{number:08x}-1111-4111-8111-{number:012x}"


@dataclass
class TsClock:
    """Message timestamps ("1700000000.000100"): wall clock based, strictly increasing."""

    _last_micros: int = 0

    def next(self) -> str:
        micros = max(int(time.time() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        seconds, fraction = divmod(micros, 1_000_000)
        return f"{seconds}.{fraction:06d}"


def ts_key(ts: str) -> tuple[int, int]:
    """Orders ts strings numerically; raises ValueError on a malformed ts."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction.ljust(6, "0")[:6])
