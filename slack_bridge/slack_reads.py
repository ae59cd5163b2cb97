"""Reading messages back from Slack: the pages of ``conversations.history`` and
``conversations.replies``, as one stream of messages."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.web.async_slack_response import AsyncSlackResponse

PAGE_SIZE = 200


async def messages(
    read: Callable[..., Awaitable[AsyncSlackResponse]], **arguments: Any
) -> AsyncIterator[Mapping[str, Any]]:
    """Every message a paginated read returns, page after page (``read`` is the client's
    ``conversations_history`` or ``conversations_replies``)."""
    cursor: str | None = None
    while True:
        response = await read(**arguments, limit=PAGE_SIZE, cursor=cursor)
        for message in response.get("messages") or []:
            yield message
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor or not response.get("has_more", True):
            return
