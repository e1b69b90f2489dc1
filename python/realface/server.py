"""For a business backend that talks to realface-server: check a verdict
webhook's signature before trusting its body."""

from __future__ import annotations

import time
from typing import Optional, Sequence, Union

from . import _realface

HEADER = "Realface-Signature"
"""The header a delivery carries its signature in."""

DEFAULT_TOLERANCE_S = 300
"""How old a delivery may be, s."""


def verify_webhook(
    secret: Union[str, Sequence[str]],
    header: str,
    body: bytes,
    now: Optional[float] = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """Raises :class:`realface.InvalidArgumentError` unless ``header`` (the
    ``Realface-Signature`` value) signs ``body`` (the raw request body,
    before any JSON parsing) under ``secret`` (or any of several, while
    rotating) and is at most ``tolerance_s`` old. Constant-time."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    t = int(time.time() if now is None else now)
    _realface.verify_webhook(secrets, header, bytes(body), t, tolerance_s)


def sign_webhook(secret: Union[str, Sequence[str]], t: int, body: bytes) -> str:
    """The header value realface-server sends for ``body`` at Unix time
    ``t`` (for a receiver's tests)."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    return str(_realface.sign_webhook(secrets, t, bytes(body)))
