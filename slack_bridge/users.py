"""Slack user names for attribution, looked up with users.info and cached."""

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.ids import UserId

logger = logging.getLogger(__name__)
CACHE_SECONDS = 3600.0


class UserDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._names: dict[UserId, tuple[str, float]] = {}

    async def name(self, user: UserId) -> str:
        """The name Slack shows for ``user`` (display name, else real name, else handle)."""
        cached = self._names.get(user)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            response = await self._client.users_info(user=user)
        except SlackApiError as error:
            logger.warning("users.info %s failed: %s", user, error.response.get("error"))
            return cached[0] if cached else user
        except Exception as error:  # Slack unreachable: fall back, try again next time
            logger.warning("users.info %s failed: %s", user, type(error).__name__)
            return cached[0] if cached else user
        profile = response["user"].get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or response["user"].get("real_name")
            or response["user"].get("name")
            or user
        )
        self._names[user] = (str(name), time.monotonic() + CACHE_SECONDS)
        return str(name)

    async def names(self, users: set[str]) -> dict[str, str]:
        return {user: await self.name(UserId(user)) for user in users}
