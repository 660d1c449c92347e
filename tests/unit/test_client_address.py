"""The client's address behind reverse proxies: only trusted proxies are believed, and only so far."""

from __future__ import annotations

import pytest

from stoa.api.client import client_address, token_of, trusted_networks

TRUSTED = trusted_networks("10.0.0.0/8, 2001:db8:ffff::/48, 192.0.2.1")


def scope(peer: str, *forwarded: str, query: bytes = b"", authorization: bytes | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", f.encode()) for f in forwarded]
    if authorization is not None:
        headers.append((b"authorization", authorization))
    return {"client": (peer, 1234), "headers": headers, "query_string": query}


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # an untrusted peer's header is its own invention
    ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
    ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # the client wrote the left part
    ("10.1.2.3", ["6.6.6.6", "198.51.100.1, 192.0.2.1"], "198.51.100.1"),  # two headers, two trusted proxies
    ("10.1.2.3", ["198.51.100.1:5555"], "198.51.100.1"),
    ("2001:db8:ffff::1", ["[2001:db8::7]:443"], "2001:db8::7"),
    ("10.1.2.3", ["not-an-ip"], "10.1.2.3"),  # garbled: only the trusted proxy itself is known
    ("10.1.2.3", ["198.51.100.1, garbage, 10.0.0.4"], "10.0.0.4"),
    ("10.1.2.3", [], "10.1.2.3"),
])
def test_rightmost_untrusted_hop(peer: str, forwarded: list[str], client: str) -> None:
    assert client_address(scope(peer, *forwarded), TRUSTED) == client


def test_nothing_is_trusted_by_default() -> None:
    assert client_address(scope("10.1.2.3", "198.51.100.1"), trusted_networks("")) == "10.1.2.3"


def test_a_malformed_proxy_list_is_an_error() -> None:
    with pytest.raises(ValueError, match="STOA_TRUSTED_PROXIES"):
        trusted_networks("10.0.0.0/8, proxy.internal")


def test_the_token_is_read_from_the_header_first_then_the_query() -> None:
    assert token_of(scope("1.2.3.4", authorization=b"Bearer abc ", query=b"access_token=xyz")) == "abc"
    assert token_of(scope("1.2.3.4", query=b"access_token=xyz")) == "xyz"
    assert token_of(scope("1.2.3.4", authorization=b"Basic Zm9v")) is None
    assert token_of(scope("1.2.3.4")) is None


def test_the_setting_is_checked_at_startup() -> None:
    from pydantic import ValidationError

    from stoa.config import Settings

    with pytest.raises(ValidationError, match=r"proxy\.internal"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.internal")
    assert Settings(trusted_proxies="10.0.0.0/8, 192.0.2.1, ::1").trusted_proxies
