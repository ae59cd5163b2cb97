"""Slack's limits: rate limits (token buckets), Block Kit limits and the text length limit."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_MARKDOWN_BLOCK_TEXT = 12_000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_ID = 255
MAX_PRIVATE_METADATA = 3_000
MAX_VIEW_TITLE = 24
MAX_VIEW_BLOCKS = 100

TRUNCATION_WARNING = "message_truncated"
TRUNCATION_MESSAGE = (
    "[WARN] Your message was truncated but still posted. "
    "The `text` field accepts up to 40,000 characters."
)

BLOCK_TYPES = frozenset(
    {"section", "actions", "context", "divider", "header", "image", "input", "rich_text"}
    | {"file", "video", "markdown", "call"}
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})

# Per-method tiers, per app and workspace: (requests per minute, burst). Tiers as Slack's
# method reference lists them (Tier 2: 20+/min, Tier 3: 50+/min, Tier 4: 100+/min).
TIER_2 = (20, 20)
TIER_3 = (50, 50)
TIER_4 = (100, 100)
METHOD_TIERS: dict[str, tuple[int, int]] = {
    "usergroups.list": TIER_2,
    "usergroups.users.list": TIER_2,
    "conversations.members": TIER_4,
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "reactions.add": TIER_3,
    "reactions.remove": TIER_2,  # Slack documents it as Tier 2 (20+ a minute)
    "conversations.replies": TIER_3,
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "chat.postEphemeral": TIER_4,
    "users.info": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.publish": TIER_4,
    "views.push": TIER_4,
}


@dataclass
class TokenBucket:
    rate_per_second: float
    burst: int
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.burst)

    def take(self, now: float) -> float:
        """Takes a token: returns 0.0, or the seconds until one will be available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_second)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_second


@dataclass
class RateLimiter:
    """chat.postMessage: ~1/s per channel with a short burst; other methods: their tier."""

    enabled: bool = True
    post_message_per_second: float = 1.0
    post_message_burst: int = 4
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)

    def retry_after(self, method: str, channel: str | None) -> int | None:
        """None if the call may proceed, else the Retry-After seconds (at least 1)."""
        if not self.enabled:
            return None
        if method == "chat.postMessage":
            key = (method, channel or "")
            rate, burst = self.post_message_per_second, self.post_message_burst
        elif method in METHOD_TIERS:
            key = (method, "")
            per_minute, burst = METHOD_TIERS[method]
            rate = per_minute / 60.0
        else:
            return None
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, burst)
        wait = bucket.take(time.monotonic())
        return None if wait == 0.0 else max(1, math.ceil(wait))

    def reset(self) -> None:
        self._buckets.clear()


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return None


class _BlockChecker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()
        # Slack wants an action_id unique within its block only: a list of cases may give
        # every case's block the same "claim" button.
        self.action_ids: set[str] = set()

    def fail(self, problem: str, pointer: str) -> None:
        self.errors.append(f"{problem} [json-pointer:{pointer}]")

    def text(self, obj: Any, pointer: str, limit: int, types: frozenset[str] = TEXT_TYPES) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in types:
            self.fail("must be a text object of type " + "|".join(sorted(types)), pointer)
            return
        text = _text_of(obj)
        if text is None or not text:
            self.fail("must be more than 0 characters", f"{pointer}/text")
        elif len(text) > limit:
            self.fail(f"must be less than {limit + 1} characters", f"{pointer}/text")

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict) or "type" not in element:
            self.fail("must be an object with a type", pointer)
            return
        action_id = element.get("action_id")
        if isinstance(action_id, str):
            if len(action_id) > MAX_ID:
                self.fail(f"must be less than {MAX_ID + 1} characters", f"{pointer}/action_id")
            if action_id in self.action_ids:
                self.fail(f"action_id `{action_id}` is not unique", f"{pointer}/action_id")
            self.action_ids.add(action_id)
        if element["type"] == "button":
            self.text(
                element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, frozenset({"plain_text"})
            )
            value = element.get("value")
            if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
                self.fail(
                    f"must be less than {MAX_BUTTON_VALUE + 1} characters", f"{pointer}/value"
                )

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must be an object", pointer)
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.fail(f"unsupported type: {kind}", f"{pointer}/type")
            return
        self.action_ids = set()
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > MAX_ID:
                self.fail(f"must be a string of at most {MAX_ID} characters", f"{pointer}/block_id")
            elif block_id in self.block_ids:
                self.fail(f"block_id `{block_id}` is not unique", f"{pointer}/block_id")
            else:
                self.block_ids.add(block_id)
        getattr(self, f"block_{kind}", lambda _block, _pointer: None)(block, pointer)

    def block_section(self, block: dict[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail("must provide either `text` or `fields`", pointer)
        if "text" in block:
            self.text(block["text"], f"{pointer}/text", MAX_SECTION_TEXT)
        fields = block.get("fields", [])
        if not isinstance(fields, list) or len(fields) > MAX_SECTION_FIELDS:
            self.fail(f"no more than {MAX_SECTION_FIELDS} items allowed", f"{pointer}/fields")
        else:
            for index, item in enumerate(fields):
                self.text(item, f"{pointer}/fields/{index}", MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def block_header(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, frozenset({"plain_text"}))

    def block_markdown(self, block: dict[str, Any], pointer: str) -> None:
        text = block.get("text")
        if not isinstance(text, str) or len(text) > MAX_MARKDOWN_BLOCK_TEXT:
            self.fail(
                f"must be a string of at most {MAX_MARKDOWN_BLOCK_TEXT} characters",
                f"{pointer}/text",
            )

    def block_actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS:
            self.fail(f"must have 1 to {MAX_ACTIONS_ELEMENTS} elements", f"{pointer}/elements")
            return
        for index, element in enumerate(elements):
            self.element(element, f"{pointer}/elements/{index}")

    def block_context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
            self.fail(f"must have 1 to {MAX_CONTEXT_ELEMENTS} elements", f"{pointer}/elements")

    def block_input(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("label"), f"{pointer}/label", 2_000, frozenset({"plain_text"}))
        self.element(block.get("element"), f"{pointer}/element")

    def block_image(self, block: dict[str, Any], pointer: str) -> None:
        if "image_url" not in block and "slack_file" not in block:
            self.fail("must provide `image_url` or `slack_file`", pointer)
        if not isinstance(block.get("alt_text"), str):
            self.fail("must provide `alt_text`", f"{pointer}/alt_text")


def block_errors(blocks: Any, *, max_blocks: int = MAX_BLOCKS) -> list[str]:
    """Slack-style error strings for invalid blocks; empty when the blocks are valid."""
    if not isinstance(blocks, list):
        return ["must provide an array [json-pointer:/blocks]"]
    checker = _BlockChecker()
    if len(blocks) > max_blocks:
        checker.fail(f"no more than {max_blocks} items allowed", "/blocks")
    for index, block in enumerate(blocks):
        checker.block(block, f"/blocks/{index}")
    return checker.errors


def truncate_text(text: str) -> tuple[str, bool]:
    """Slack truncates text over 40,000 characters (and warns); returns (text, truncated)."""
    if len(text) <= MAX_TEXT:
        return text, False
    return text[:MAX_TEXT], True
