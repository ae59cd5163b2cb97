"""Slack's request signing: ``v0=`` + HMAC-SHA256(secret, ``v0:{timestamp}:{raw body}``)."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app's request URL."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body),
    }


def is_valid(secret: str, timestamp: str, body: bytes, sig: str, *, window: int = 300) -> bool:
    """Verifies a signature the way apps should (for tests of signing helpers)."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    return age <= window and hmac.compare_digest(signature(secret, timestamp, body), sig)
