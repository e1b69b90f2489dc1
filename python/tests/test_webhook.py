"""A Python backend checks realface-server's webhook signatures."""

from __future__ import annotations

import pytest

import realface
from realface.server import sign_webhook, verify_webhook

T = 1_800_000_000
BODY = b'{"eventId":"evt_1","certifyId":"c1","authState":"SUCCESS"}'


def test_a_signed_delivery_verifies_and_a_changed_one_does_not() -> None:
    header = sign_webhook("whsec_a", T, BODY)
    assert header.startswith(f"t={T},v1=")
    verify_webhook("whsec_a", header, BODY, now=T + 5)
    verify_webhook(["whsec_new", "whsec_a"], header, BODY, now=T)  # rotating
    for args in [
        ("whsec_a", header, BODY.replace(b"SUCCESS", b"FAIL"), T),  # body changed
        ("whsec_other", header, BODY, T),  # wrong secret
        ("whsec_a", header, BODY, T + 301),  # stale: a replay
        ("whsec_a", "t=abc,v1=00", BODY, T),  # malformed
    ]:
        with pytest.raises(realface.InvalidArgumentError):
            verify_webhook(args[0], args[1], args[2], now=args[3])
