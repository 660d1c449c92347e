"""Time-sortable 64-bit IDs, the shape Mastodon clients expect.

An ID is ``milliseconds since the Unix epoch << 16`` plus 16 low bits: six
bits that tell processes apart and a ten-bit counter. IDs therefore sort by
creation time as integers and, serialised as decimal strings, clients can
turn a date into an ID for pagination exactly as they do with Mastodon.
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import datetime

_lock = threading.Lock()
_process_bits = (os.getpid() ^ random.getrandbits(16)) & 0x3F
_last = 0


def new_id() -> int:
    """Return a fresh ID, strictly greater than any this process returned before."""
    global _last
    ms = int(time.time() * 1000)
    with _lock:
        candidate = (ms << 16) | (_process_bits << 10)
        if candidate <= _last:
            candidate = _last + 1
        _last = candidate
        return candidate


def historical_id(ms: int, sequence: int) -> int:
    """An ID for a row dated in the past (generated communities): unique per (ms, sequence)."""
    return (ms << 16) | (sequence & 0xFFFF)


def id_for_time(moment: datetime) -> int:
    """The smallest ID a row created at ``moment`` can have (for date-based pagination)."""
    return int(moment.timestamp() * 1000) << 16


def time_of(identifier: int) -> float:
    """Seconds since the epoch at which ``identifier`` was minted."""
    return (identifier >> 16) / 1000.0


MAX_ID = 2**63 - 1


def parse(text: object) -> int | None:
    """A decimal id as clients send it, or None. ASCII digits only: "¹" is a digit to str.isdigit()."""
    value = str(text).strip()
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None
