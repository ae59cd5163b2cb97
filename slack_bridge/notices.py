"""Private answers and receipts for operators: ephemeral messages and reactions.

These are courtesies: if Slack cannot take one, it is logged and dropped, never retried
in a way that would hold up the customer's messages.
"""

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.ids import ChannelId, Ts, UserId

logger = logging.getLogger(__name__)

DELIVERED = "white_check_mark"
DELIVERED_AS_AI = "robot_face"
NOTE_KEPT = "memo"
HELD_BACK = "no_entry_sign"
"""On a message that was not sent to the customer (its author is not an operator)."""


class OperatorNotices:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def tell(
        self, user: UserId, channel: ChannelId, text: str, thread_ts: Ts | None = None
    ) -> None:
        """An ephemeral message only ``user`` sees (in the thread when ``thread_ts`` is set)."""
        try:
            await self._client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts
            )
        except SlackApiError as error:
            logger.warning("could not tell %s: %s", user, error.response.get("error"))
        except Exception as error:  # Slack unreachable
            logger.warning("could not tell %s: %s", user, type(error).__name__)

    async def react(self, channel: ChannelId, ts: Ts, name: str) -> None:
        try:
            await self._client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as error:
            if error.response.get("error") != "already_reacted":
                logger.warning("could not react to %s: %s", ts, error.response.get("error"))
        except Exception as error:  # Slack unreachable
            logger.warning("could not react to %s: %s", ts, type(error).__name__)
