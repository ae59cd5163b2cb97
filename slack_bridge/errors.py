"""What can go wrong talking to Parlant, and with the bridge's settings."""

from agent.settings import ConfigError

__all__ = ["ConfigError", "ParlantError", "ParlantRejected", "ParlantUnavailable"]


class ParlantError(Exception):
    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class ParlantUnavailable(ParlantError):
    """Parlant could not be reached or failed (5xx): try again later, lose nothing."""


class ParlantRejected(ParlantError):
    """Parlant refused the request (4xx): retrying the same request will not help."""
