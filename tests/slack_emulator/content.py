"""Message content shared by chat.* and response URLs: text, blocks, attachments, metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.slack_emulator import limits
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiError
from tests.slack_emulator.workspace import Channel

JsonDict = dict[str, Any]


@dataclass
class Content:
    """Parsed content; ``blocks``/``attachments`` are None when the caller did not send them."""

    text: str | None
    blocks: list[JsonDict] | None
    attachments: list[JsonDict] | None
    metadata: JsonDict | None
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.text and not self.blocks and not self.attachments

    def response_extras(self) -> JsonDict:
        """``warning`` and ``response_metadata`` as Slack adds them to a success response."""
        if not self.warnings:
            return {}
        return {
            "warning": ",".join(self.warnings),
            "response_metadata": {
                "warnings": list(self.warnings),
                "messages": [limits.TRUNCATION_MESSAGE],
            },
        }


def _decode(value: Any, error: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            raise ApiError(error) from None
    return value


def parse_content(params: JsonDict, *, too_long_is_error: bool = False) -> Content:
    """Reads text/blocks/attachments/metadata; raises ApiError like Slack.

    Over 40,000 characters of text is truncated with a warning (chat.postMessage,
    chat.postEphemeral, response URLs) or refused with ``msg_too_long`` (chat.update).
    """
    raw_text = params.get("text")
    text = None if raw_text is None else str(raw_text)
    warnings: list[str] = []
    if text is not None and len(text) > limits.MAX_TEXT:
        if too_long_is_error:
            raise ApiError("msg_too_long")
        text, _ = limits.truncate_text(text)
        warnings.append(limits.TRUNCATION_WARNING)
    blocks = _decode(params.get("blocks"), "invalid_blocks_format")
    if blocks is not None:
        errors = limits.block_errors(blocks)
        if errors:
            raise ApiError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
    attachments = _decode(params.get("attachments"), "invalid_attachments")
    if attachments is not None and not isinstance(attachments, list):
        raise ApiError("invalid_attachments")
    metadata = _decode(params.get("metadata"), "invalid_metadata_format")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return Content(text, blocks, attachments, metadata, warnings)


def channel_for_bot(state: SlackState, reference: str | None) -> Channel:
    """The channel the app's bot addresses by id or ``#name``; raises like Slack.

    Private channels the bot is not in do not exist for it (``channel_not_found``); public
    ones answer ``not_in_channel`` (the app has no ``chat:write.public``).
    """
    ws = state.workspace
    if not reference:
        raise ApiError("channel_not_found")
    channel = ws.channels.get(reference)
    if channel is None:
        name = reference.removeprefix("#")
        channel = next((c for c in ws.channels.values() if c.name == name), None)
    if channel is None or (channel.is_private and ws.bot.id not in channel.members):
        raise ApiError("channel_not_found")
    if ws.bot.id not in channel.members:
        raise ApiError("not_in_channel")
    return channel
