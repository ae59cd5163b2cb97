"""views.open, views.push, views.update and views.publish (modals and the Home tab)."""

from __future__ import annotations

import time
from typing import Any

from tests.slack_emulator import limits
from tests.slack_emulator.records import View, ViewState
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiError, ApiRequest, Handler, invalid_arguments

JsonDict = dict[str, Any]


def _view_json(state: SlackState, req: ApiRequest, kind: str) -> JsonDict:
    view = req.json_value("view", "invalid_arguments")
    if not isinstance(view, dict):
        raise invalid_arguments("missing required field: view")
    problems: list[str] = []
    if view.get("type") != kind:
        problems.append(f"must be `{kind}` [json-pointer:/view/type]")
    title = view.get("title")
    if kind == "modal":
        title_text = title.get("text") if isinstance(title, dict) else None
        if not isinstance(title_text, str) or not title_text:
            problems.append("missing required field: title [json-pointer:/view/title]")
        elif len(title_text) > limits.MAX_VIEW_TITLE:
            problems.append(
                f"must be less than {limits.MAX_VIEW_TITLE + 1} characters "
                "[json-pointer:/view/title/text]"
            )
    metadata = view.get("private_metadata", "")
    if not isinstance(metadata, str) or len(metadata) > limits.MAX_PRIVATE_METADATA:
        problems.append(
            f"must be less than {limits.MAX_PRIVATE_METADATA + 1} characters "
            "[json-pointer:/view/private_metadata]"
        )
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("missing required field: blocks [json-pointer:/view/blocks]")
    else:
        problems += [
            e.replace("[json-pointer:/blocks", "[json-pointer:/view/blocks")
            for e in limits.block_errors(blocks, max_blocks=limits.MAX_VIEW_BLOCKS)
        ]
    if problems:
        raise invalid_arguments(*problems)
    return view


def _new_view(state: SlackState, user: str, view: JsonDict, **links: str | None) -> View:
    ws = state.workspace
    stored = View(
        id=state.ids.next("V"),
        user=user,
        view=view,
        hash=_hash(state),
        team_id=ws.team_id,
        app_id=ws.app_id,
        bot_id=ws.bot.bot_id or "",
        **links,  # type: ignore[arg-type]
    )
    state.views[stored.id] = stored
    return stored


def _hash(state: SlackState) -> str:
    return f"{int(time.time())}.{state.ids.next('', 8).lower()}"


def _checked_view_and_trigger(state: SlackState, req: ApiRequest) -> tuple[JsonDict, str]:
    """Checks the trigger, then the view; then exchanges the trigger (one use)."""
    trigger_id = req.text("trigger_id") or req.text("interactivity_pointer")
    if not trigger_id:
        raise invalid_arguments("missing required field: trigger_id")
    problem = state.trigger_problem(trigger_id)
    if problem is not None:
        raise invalid_arguments(problem)
    view_json = _view_json(state, req, "modal")
    trigger = state.triggers[trigger_id]
    trigger.used = True
    return view_json, trigger.user


def views_open(state: SlackState, req: ApiRequest) -> JsonDict:
    view_json, user = _checked_view_and_trigger(state, req)
    return {"view": _new_view(state, user, view_json).to_api()}


def views_push(state: SlackState, req: ApiRequest) -> JsonDict:
    view_json, user = _checked_view_and_trigger(state, req)
    top = next(
        (v for v in reversed(state.views.values()) if v.user == user and v.state is ViewState.OPEN),
        None,
    )
    if top is None:
        raise ApiError("not_found")
    stored = _new_view(
        state, user, view_json, root_view_id=top.root_view_id or top.id, previous_view_id=top.id
    )
    return {"view": stored.to_api()}


def views_update(state: SlackState, req: ApiRequest) -> JsonDict:
    view_id = req.text("view_id")
    external_id = req.text("external_id")
    if view_id:
        stored = state.views.get(view_id)
    elif external_id:
        stored = next(
            (v for v in state.views.values() if v.view.get("external_id") == external_id), None
        )
    else:
        raise invalid_arguments("missing required field: view_id")
    if stored is None or stored.state is ViewState.CLOSED:
        raise ApiError("not_found")
    view_json = _view_json(state, req, str(stored.view.get("type", "modal")))
    expected_hash = req.text("hash")
    if expected_hash and expected_hash != stored.hash:
        raise ApiError("hash_conflict")
    stored.view = view_json
    stored.hash = _hash(state)
    stored.errors = {}
    return {"view": stored.to_api()}


def views_publish(state: SlackState, req: ApiRequest) -> JsonDict:
    user = req.require("user_id")
    if user not in state.workspace.users:
        raise ApiError("user_not_found")
    view_json = _view_json(state, req, "home")
    current = next(
        (v for v in state.views.values() if v.user == user and v.state is ViewState.PUBLISHED),
        None,
    )
    expected_hash = req.text("hash")
    if current is not None and expected_hash and expected_hash != current.hash:
        raise ApiError("hash_conflict")
    if current is None:
        current = _new_view(state, user, view_json)
        current.state = ViewState.PUBLISHED
    else:
        current.view, current.hash = view_json, _hash(state)
    return {"view": current.to_api()}


HANDLERS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
