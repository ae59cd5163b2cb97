"""Fixtures of the fault suite: an agent per module, the customers' client, the bridge.

Every test here is marked ``faults`` (``pytest -m faults`` runs only them); they run in the
normal suite too.
"""

import pytest

from tests.support.stack import bridge, bridge_agent, customers

__all__ = ["bridge", "bridge_agent", "customers"]

FAULTS_MARKER = "faults"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FAULTS_MARKER}: end-to-end fault injection (kills, Slack and Parlant failures):"
        " nothing lost, nothing repeated, nothing out of order",
    )
