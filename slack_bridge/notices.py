"""Private answers and receipts for operators: ephemeral messages and reactions.

These are courtesies: if Slack cannot take one, it is logged and dropped, never retried
in a way that would hold up the customer's messages.
"""

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from slack_bridge.ids import ChannelId, Ts, UserId

logger = logging.getLogger(__name__)

DELIVERED = "white_check_mark"
DELIVERED_AS_AI = "robot_face"
NOTE_KEPT = "memo"
HELD_BACK = "no_entry_sign"
"""On a message that was not sent to the customer (its author is not an operator)."""
HELD_FOR_OWNER_MARK = "raised_hand"
"""On a reply held because another operator owns the case."""
HELD_AS_INTERNAL_MARK = "lock"
"""On a reply held because it looks meant for colleagues."""
CORRECTED = "pencil2"
"""On a reply whose edit reached the customer as a correction."""


class OperatorNotices:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def tell(
        self,
        user: UserId,
        channel: ChannelId,
        text: str,
        thread_ts: Ts | None = None,
        blocks: Sequence[Block] | None = None,
    ) -> None:
        """An ephemeral message only ``user`` sees (in the thread when ``thread_ts`` is set)."""
        try:
            await self._client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts, blocks=blocks
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

    async def unreact(self, channel: ChannelId, ts: Ts, name: str) -> None:
        try:
            await self._client.reactions_remove(channel=channel, timestamp=ts, name=name)
        except SlackApiError as error:
            if error.response.get("error") != "no_reaction":
                logger.warning("could not unreact %s: %s", ts, error.response.get("error"))
        except Exception as error:  # Slack unreachable
            logger.warning("could not unreact %s: %s", ts, type(error).__name__)

    async def replace(self, response_url: str, text: str, blocks: Sequence[Block]) -> None:
        """Replace the ephemeral message whose button was clicked (its ``response_url``)."""
        try:
            response = await AsyncWebhookClient(response_url).send(
                text=text, blocks=blocks, replace_original=True
            )
            if response.status_code >= 300:
                logger.warning("response_url answered %s", response.status_code)
        except Exception as error:  # Slack unreachable
            logger.warning("could not answer a click: %s", type(error).__name__)
