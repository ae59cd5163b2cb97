"""What a person does that Slack sends to the app and waits for: commands, buttons, modals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.slack_emulator import payloads
from tests.slack_emulator.delivery import Deliverer, Kind, Outcome, Reply
from tests.slack_emulator.messages import iter_block_elements
from tests.slack_emulator.records import Ephemeral, EphemeralSource, View, ViewState
from tests.slack_emulator.responses import apply_response
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiError

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class CommandResult:
    """How a slash command went, as the person who typed it experienced it.

    ``shown`` holds the ephemerals of the immediate answer and of Slack's own errors; later
    response_url posts are in ``SlackEmulator.ephemerals(user)``.

    ``error`` is what Slack showed instead of a response ("operation_timeout",
    "dispatch_failed", "http_client_error", "http_service_error"), or why Slack refused the
    command without contacting the app: "not_supported_in_threads", or "not_a_valid_command"
    for a Slack Connect user whose workspace does not have the app installed (see
    ``Workspace.app_installed_teams``); None when the app answered.
    """

    command: str
    status: int | None
    outcome: Outcome
    error: str | None
    response: JsonDict | None
    shown: tuple[Ephemeral, ...]
    response_url: str | None = None
    trigger_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class InteractionResult:
    """How a button click, shortcut or view submission was acknowledged."""

    kind: str
    status: int | None
    outcome: Outcome
    response: JsonDict | None
    trigger_id: str
    response_url: str | None = None
    response_action: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACKED


def _command_error(reply: Reply) -> str:
    if reply.outcome is Outcome.TIMEOUT:
        return "operation_timeout"
    if reply.outcome is Outcome.HTTP_ERROR and reply.status is not None:
        return "http_client_error" if reply.status < 500 else "http_service_error"
    return "dispatch_failed"


def _check_member(state: SlackState, user_id: str, channel: str) -> None:
    state.workspace.user(user_id)
    if user_id not in state.workspace.channel(channel).members:
        raise ValueError(f"{user_id} is not a member of {channel}")


async def run_slash_command(
    state: SlackState,
    deliverer: Deliverer,
    base_url: str,
    user_id: str,
    channel: str,
    command: str,
    text: str,
    thread_ts: str | None,
) -> CommandResult:
    _check_member(state, user_id, channel)
    if not command.startswith("/"):
        raise ValueError(f"slash commands start with '/': {command!r}")
    seen = len(state.ephemerals)
    if state.workspace.team_of(user_id) not in state.workspace.app_installed_teams:
        # The app's commands exist only in workspaces that installed it.
        state.add_ephemeral(
            user_id,
            channel,
            f"{command} is not a valid command. In Slack, all messages that start with the "
            '"/" character are interpreted as commands.',
            EphemeralSource.SLACKBOT,
        )
        return CommandResult(
            command,
            None,
            Outcome.NOT_SENT,
            "not_a_valid_command",
            None,
            tuple(state.ephemerals[seen:]),
        )
    if thread_ts:
        if state.thread_parent(channel, thread_ts) is None:
            raise ValueError(f"no thread {thread_ts} in {channel}")
        state.add_ephemeral(
            user_id,
            channel,
            f"{command} is not supported in threads. Sorry!",
            EphemeralSource.SLACKBOT,
            thread_ts=thread_ts,
        )
        return CommandResult(
            command,
            None,
            Outcome.NOT_SENT,
            "not_supported_in_threads",
            None,
            tuple(state.ephemerals[seen:]),
        )
    user = state.workspace.user(user_id)
    trigger_id = state.new_trigger(user_id)
    response_url = state.new_response_url(base_url, user_id, channel, command=command)
    form = payloads.slash_command_form(
        state, user, channel, command, text, response_url, trigger_id
    )
    reply = await deliverer.deliver_once(f"command-{trigger_id}", Kind.SLASH_COMMANDS, form)
    error: str | None = None
    if not reply.ok:
        error = _command_error(reply)
    elif reply.ack_payload:
        context = state.response_urls[response_url.rsplit("/", 1)[-1]]
        try:
            apply_response(state, context, reply.ack_payload, EphemeralSource.COMMAND_RESPONSE)
        except ApiError as api_error:
            error = api_error.error
    if error is not None and error != "no_text":
        state.add_ephemeral(
            user_id,
            channel,
            f'{command} failed with the error "{error}"',
            EphemeralSource.SLACKBOT,
        )
    elif error == "no_text":
        error = None  # an ack with an empty payload shows nothing, like Slack
    # response_url posts the app made meanwhile are not part of the immediate answer.
    shown = tuple(
        e
        for e in state.ephemerals[seen:]
        if e.user == user_id
        and e.source in (EphemeralSource.COMMAND_RESPONSE, EphemeralSource.SLACKBOT)
    )
    return CommandResult(
        command,
        reply.status,
        reply.outcome,
        error,
        reply.ack_payload,
        shown,
        response_url,
        trigger_id,
    )


async def click_button(
    state: SlackState,
    deliverer: Deliverer,
    base_url: str,
    user_id: str,
    channel: str,
    message_ts: str,
    action_id: str,
) -> InteractionResult:
    _check_member(state, user_id, channel)
    message = state.messages.get(channel, message_ts)
    if message is None:
        raise ValueError(f"no message {message_ts} in {channel}")
    block_id, element = _element(message.blocks, action_id)
    trigger_id = state.new_trigger(user_id)
    response_url = state.new_response_url(base_url, user_id, channel, message_ts=message.ts)
    payload = payloads.block_actions_payload(
        state, state.workspace.user(user_id), message, block_id, element, response_url, trigger_id
    )
    reply = await deliverer.deliver_once(f"action-{trigger_id}", Kind.INTERACTIVE, payload)
    return InteractionResult(
        "block_actions", reply.status, reply.outcome, reply.ack_payload, trigger_id, response_url
    )


async def click_ephemeral_button(
    state: SlackState,
    deliverer: Deliverer,
    base_url: str,
    user_id: str,
    ephemeral: Ephemeral,
    action_id: str,
) -> InteractionResult:
    """``user_id`` clicks a button of an ephemeral only they can see."""
    if ephemeral.user != user_id:
        raise ValueError(f"{user_id} cannot see the ephemeral {ephemeral.ts} of {ephemeral.user}")
    stored = next((e for e in state.ephemerals if e.ts == ephemeral.ts and e.user == user_id), None)
    if stored is None or stored.deleted:
        raise ValueError(f"the ephemeral {ephemeral.ts} was deleted or replaced")
    _check_member(state, user_id, stored.channel)
    block_id, element = _element(stored.blocks, action_id)
    trigger_id = state.new_trigger(user_id)
    response_url = state.new_response_url(
        base_url, user_id, stored.channel, ephemeral_ts=stored.ts, from_ephemeral=True
    )
    payload = payloads.ephemeral_block_actions_payload(
        state, state.workspace.user(user_id), stored, block_id, element, response_url, trigger_id
    )
    reply = await deliverer.deliver_once(f"action-{trigger_id}", Kind.INTERACTIVE, payload)
    return InteractionResult(
        "block_actions", reply.status, reply.outcome, reply.ack_payload, trigger_id, response_url
    )


async def click_home_button(
    state: SlackState,
    deliverer: Deliverer,
    user_id: str,
    action_id: str,
    value: str | None,
) -> InteractionResult:
    """``user_id`` clicks a button of the Home tab the app published for them."""
    state.workspace.user(user_id)
    view = next(
        (v for v in state.views.values() if v.user == user_id and v.state is ViewState.PUBLISHED),
        None,
    )
    if view is None:
        raise ValueError(f"the app published no Home tab for {user_id}")
    block_id, element = _view_element(view, action_id, value)
    trigger_id = state.new_trigger(user_id)
    payload = payloads.view_block_actions_payload(
        state, state.workspace.user(user_id), view, block_id, element, trigger_id
    )
    reply = await deliverer.deliver_once(f"action-{trigger_id}", Kind.INTERACTIVE, payload)
    return InteractionResult(
        "block_actions", reply.status, reply.outcome, reply.ack_payload, trigger_id
    )


def _view_element(view: View, action_id: str, value: str | None) -> tuple[str | None, JsonDict]:
    """The one element ``action_id`` (with ``value``, when given) of a view; a list of
    cases repeats an action_id, so only its value tells the buttons apart."""
    found = [
        (block_id, element)
        for block_id, element in iter_block_elements(view.blocks)
        if element.get("action_id") == action_id
        and (value is None or element.get("value") == value)
    ]
    if len(found) == 1:
        return found[0]
    if found:
        values = sorted(str(element.get("value")) for _, element in found)
        raise ValueError(f"{len(found)} elements with action_id {action_id!r}; values: {values}")
    available = sorted(
        f"{element.get('action_id')}={element.get('value')}"
        for _, element in iter_block_elements(view.blocks)
    )
    raise ValueError(
        f"no element with action_id {action_id!r} and value {value!r}; elements: {available}"
    )


def _element(blocks: list[JsonDict] | None, action_id: str) -> tuple[str | None, JsonDict]:
    """The (block_id, element) of the interactive element ``action_id``; ValueError if none."""
    found = iter_block_elements(blocks or [])
    for block_id, element in found:
        if element.get("action_id") == action_id:
            return block_id, element
    available = sorted(str(element.get("action_id")) for _, element in found)
    raise ValueError(f"no element with action_id {action_id!r}; elements: {available}")


async def open_message_shortcut(
    state: SlackState,
    deliverer: Deliverer,
    base_url: str,
    user_id: str,
    channel: str,
    message_ts: str,
    callback_id: str,
) -> InteractionResult:
    _check_member(state, user_id, channel)
    message = state.messages.get(channel, message_ts)
    if message is None:
        raise ValueError(f"no message {message_ts} in {channel}")
    trigger_id = state.new_trigger(user_id)
    response_url = state.new_response_url(base_url, user_id, channel)
    payload = payloads.message_action_payload(
        state, state.workspace.user(user_id), message, callback_id, response_url, trigger_id
    )
    reply = await deliverer.deliver_once(f"shortcut-{trigger_id}", Kind.INTERACTIVE, payload)
    return InteractionResult(
        "message_action", reply.status, reply.outcome, reply.ack_payload, trigger_id, response_url
    )


def _state_values(view: View, values: dict[str, dict[str, Any]]) -> JsonDict:
    """view.state.values: every input of the view, holding the given values (or null)."""
    elements = {
        (block_id, element.get("action_id")): element
        for block_id, element in iter_block_elements(view.blocks)
        if block_id
    }
    for block_id, actions in values.items():
        for action_id in actions:
            if (block_id, action_id) not in elements:
                raise ValueError(
                    f"view {view.id} has no element {block_id}/{action_id}; "
                    f"it has {sorted(f'{b}/{a}' for b, a in elements)}"
                )
    state: JsonDict = {}
    for (input_block, input_action), element in elements.items():
        value = values.get(input_block, {}).get(str(input_action))
        state.setdefault(input_block, {})[input_action] = payloads.state_value(element, value)
    return state


def _missing_required(view: View, values: dict[str, dict[str, Any]]) -> dict[str, str]:
    missing: dict[str, str] = {}
    for block in view.blocks:
        if block.get("type") != "input" or block.get("optional"):
            continue
        block_id = str(block.get("block_id"))
        action_id = str(block.get("element", {}).get("action_id"))
        if values.get(block_id, {}).get(action_id) in (None, "", []):
            missing[block_id] = "This field is required."
    return missing


async def submit_view(
    state: SlackState,
    deliverer: Deliverer,
    user_id: str,
    view_id: str,
    values: dict[str, dict[str, Any]],
) -> InteractionResult:
    view = state.views.get(view_id)
    if view is None or view.user != user_id or view.state is not ViewState.OPEN:
        raise ValueError(f"no open view {view_id} for {user_id}")
    trigger_id = state.new_trigger(user_id)
    missing = _missing_required(view, values)
    if missing:
        # Slack checks required inputs itself and never contacts the app.
        view.errors = missing
        return InteractionResult(
            "view_submission", None, Outcome.NOT_SENT, None, trigger_id, errors=missing
        )
    payload = payloads.view_submission_payload(
        state, state.workspace.user(user_id), view, _state_values(view, values), trigger_id
    )
    view.submissions += 1
    reply = await deliverer.deliver_once(f"view-{trigger_id}", Kind.INTERACTIVE, payload)
    response = reply.ack_payload or {}
    action = response.get("response_action") if reply.ok else None
    errors: dict[str, str] = {}
    if reply.ok and action is None:
        view.state = ViewState.CLOSED
    elif action == "errors":
        errors = dict(response.get("errors", {}))
        view.errors = errors
    elif action == "update" and isinstance(response.get("view"), dict):
        view.view = response["view"]
    elif action == "clear":
        for other in state.views.values():
            if other.user == user_id and other.state is ViewState.OPEN:
                other.state = ViewState.CLOSED
    elif action == "push" and isinstance(response.get("view"), dict):
        pushed = View(
            id=state.ids.next("V"),
            user=user_id,
            view=response["view"],
            hash=view.hash,
            team_id=view.team_id,
            app_id=view.app_id,
            bot_id=view.bot_id,
            root_view_id=view.root_view_id or view.id,
            previous_view_id=view.id,
        )
        state.views[pushed.id] = pushed
    return InteractionResult(
        "view_submission",
        reply.status,
        reply.outcome,
        reply.ack_payload,
        trigger_id,
        response_action=action,
        errors=errors,
    )
