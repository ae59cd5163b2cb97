"""What an operator is told, only for them to see, when their thread reply was held back.

Each notice is (fallback text, blocks) for an ephemeral message. Its buttons carry the
caller's ``key`` for the held reply (e.g. ``"C123|1700000000.000100"``) as their ``value``;
after a click, :func:`settled` replaces the notice.
"""

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from slack_bridge.case_card import mention
from slack_bridge.formatting import escape, mrkdwn

TAKE_OVER_HELD_ACTION = "held_take_over"
SEND_HELD_ACTION = "held_send"
KEEP_HELD_ACTION = "held_keep_internal"


def held_for_owner(ref: str, owner: str, key: str) -> tuple[str, list[Block]]:
    """The reply was held because ``owner`` owns the case."""
    text = (
        f"{mention(owner)} owns `{escape(ref)}`, so your reply was not sent. Take over to send"
        " it and own the case, or keep it as an internal note."
    )
    take_over = ButtonElement(
        text="Take over", action_id=TAKE_OVER_HELD_ACTION, value=key, style="primary"
    )
    return text, _notice(text, take_over, _keep(key))


def held_as_internal(ref: str, reason: str, key: str) -> tuple[str, list[Block]]:
    """The reply was held because it looks meant for colleagues, not the customer.

    ``reason`` is mrkdwn the bridge writes, e.g. ``"it starts with `internal:`"``.
    """
    text = (
        f"Your reply in `{escape(ref)}` was not sent: it looks internal because {reason}."
        " Send it to the customer, or keep it as an internal note."
    )
    send = ButtonElement(
        text="Send to customer", action_id=SEND_HELD_ACTION, value=key, style="primary"
    )
    return text, _notice(text, send, _keep(key))


def settled(text: str) -> tuple[str, list[Block]]:
    """What replaces a notice once acted on: ``text`` (mrkdwn the bridge writes), no buttons."""
    return text, [SectionBlock(text=mrkdwn(text))]


def _keep(key: str) -> ButtonElement:
    return ButtonElement(text="Keep internal", action_id=KEEP_HELD_ACTION, value=key)


def _notice(text: str, *buttons: ButtonElement) -> list[Block]:
    return [SectionBlock(text=mrkdwn(text)), ActionsBlock(elements=list(buttons))]
