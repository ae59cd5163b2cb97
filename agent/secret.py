"""Credentials: never shown in logs, reprs or tracebacks, compared in constant time."""

import hmac

BEARER_SCHEME = "bearer"


class Secret:
    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def matches(self, presented: str) -> bool:
        """Constant-time comparison, so response timing reveals nothing about the secret."""
        return hmac.compare_digest(presented.encode(), self._value.encode())

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, if it is one."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != BEARER_SCHEME or not token.strip():
        return None
    return token.strip()
