"""What can go wrong talking to Parlant, and with the bridge's settings."""


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it in one line."""


class ParlantError(Exception):
    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class ParlantUnavailable(ParlantError):
    """Parlant could not be reached or failed (5xx): try again later, lose nothing."""


class ParlantRejected(ParlantError):
    """Parlant refused the request (4xx): retrying the same request will not help."""
