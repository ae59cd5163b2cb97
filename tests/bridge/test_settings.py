"""Starting the bridge with bad settings: one line naming them, a non-zero exit."""

import subprocess
import sys

from tests.support.processes import OPERATOR_TOKEN, REPO_ROOT, clean_env


def run_bridge(**settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slack_bridge"],
        env=clean_env(**settings),
        cwd=REPO_ROOT / "tests",  # no .env here
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_settings_are_named_on_one_line() -> None:
    result = run_bridge(SLACK_SIGNING_SECRET="s3cret")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "slack_bridge: missing settings: SLACK_BOT_TOKEN, SLACK_HANDOFF_CHANNEL, PARLANT_API_TOKEN"
    ]


def test_a_wrong_token_kind_is_refused_without_echoing_it() -> None:
    result = run_bridge(
        SLACK_BOT_TOKEN="xoxp-user-token-secret",
        SLACK_SIGNING_SECRET="s3cret",
        SLACK_HANDOFF_CHANNEL="C0HANDOFF",
        PARLANT_API_TOKEN=OPERATOR_TOKEN,
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "slack_bridge: SLACK_BOT_TOKEN must be a bot token (xoxb-...)"
    ]
    assert "secret" not in result.stderr


def test_http_mode_needs_the_signing_secret_socket_mode_does_not() -> None:
    http_mode = run_bridge(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_HANDOFF_CHANNEL="C0HANDOFF",
        PARLANT_API_TOKEN=OPERATOR_TOKEN,
    )
    assert http_mode.returncode == 2
    assert http_mode.stderr.splitlines() == ["slack_bridge: missing setting: SLACK_SIGNING_SECRET"]

    socket_mode = run_bridge(
        SLACK_APP_TOKEN="xapp-1",
        SLACK_HANDOFF_CHANNEL="C0HANDOFF",
        PARLANT_API_TOKEN=OPERATOR_TOKEN,
    )
    assert socket_mode.returncode == 2
    assert socket_mode.stderr.splitlines() == ["slack_bridge: missing setting: SLACK_BOT_TOKEN"]


def test_a_short_parlant_token_is_refused_without_echoing_it() -> None:
    result = run_bridge(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s3cret",
        SLACK_HANDOFF_CHANNEL="C0HANDOFF",
        PARLANT_API_TOKEN="short-secret",
    )

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("slack_bridge: PARLANT_API_TOKEN must be at least 32")
    assert "short-secret" not in result.stderr
