"""Who is asking, read the same way everywhere: the credential a request carries and the client's address.

Authentication (``api/deps.py``) and rate limits (``api/ratelimit.py``) both read them from here, so a
limit per token cannot be sidestepped by sending the token in a way the limiter does not look at, and
every use of the client's address (limits, the address kept at sign-up) sees the same one.

* The credential: ``Authorization: Bearer …``, else the ``access_token`` query parameter (streaming
  clients send it there). A form field named ``access_token`` is not a credential.
* The address: the connecting peer, unless the peer is one of ``STOA_TRUSTED_PROXIES``; then the
  rightmost ``X-Forwarded-For`` hop that is not itself a trusted proxy — the address the outermost
  trusted proxy saw. Hops further left were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.datastructures import QueryParams
from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def token_of(scope: Scope) -> str | None:
    """The access token the request carries, or None."""
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            header = value.decode("latin-1")
            if header[:7].lower() == "bearer ":
                return header[7:].strip() or None
            break
    return QueryParams(scope.get("query_string", b"")).get("access_token") or None


@lru_cache(maxsize=16)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """``STOA_TRUSTED_PROXIES`` parsed ("10.0.0.0/8, 192.0.2.1"); a malformed entry is an error, not ignored."""
    networks = []
    for item in setting.split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"STOA_TRUSTED_PROXIES: {item.strip()!r} is not an IP address or network") from exc
    return tuple(networks)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The client's IP address as text ("unknown" when the server cannot tell)."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted:
        return peer
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, trusted):
        return peer
    hops = [hop for name, value in scope.get("headers") or [] if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")]
    nearest = peer_address  # the closest hop known to be a trusted proxy
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # a garbled hop: believe only what the trusted proxy itself is
            return str(nearest)
        if not _trusted(address, trusted):
            return str(address)
        nearest = address
    return str(nearest)
