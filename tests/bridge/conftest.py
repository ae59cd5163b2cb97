"""The bridge tests run on the real stack: see ``tests/support/stack.py``."""

from tests.support.stack import bridge, bridge_agent, customers

__all__ = ["bridge", "bridge_agent", "customers"]
