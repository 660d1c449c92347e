"""The auditor's side: check a region's log over HTTP, trusting nothing but its public key.

1. Fetch the current signed tree head and verify its Ed25519 signature with the key the auditor
   holds (not the one the server offers).
2. If the auditor saved a head before, fetch a consistency proof from that size to the current one
   and verify it: the log only grew, nothing before was changed or removed.
3. Optionally fetch every entry, hash it, rebuild the tree and compare the root with the signed head.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from stoa.residency import merkle
from stoa.residency.transparency import verify_head_signature


@dataclass
class AuditResult:
    size: int
    root_hash: str
    timestamp: int
    checked_consistency_from: int | None
    entries_checked: int


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def verify(base_url: str, region: str, public_key: bytes, saved_head: dict[str, Any] | None, *,
           check_entries: bool = False, progress: Callable[[int, int], None] | None = None,
           client: httpx.Client | None = None) -> AuditResult:
    """Raise merkle.ProofError (or httpx.HTTPError) unless the log verifies; return what was checked."""
    http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=30)
    prefix = f"/api/v1/stoa/transparency/{region}"
    try:
        head = _get(http, f"{prefix}/head")
        size, root = int(head["size"]), _b64(head["root_hash"])
        merkle.require_hash(root, "the tree head's root")  # a signature over a non-hash proves nothing
        verify_head_signature(public_key, region, size, int(head["timestamp"]), root, _b64(head["signature"]))
        checked_from = None
        if saved_head is not None:
            old_size, old_root = int(saved_head["size"]), _b64(saved_head["root_hash"])
            merkle.require_hash(old_root, "the saved tree head's root")
            verify_head_signature(public_key, region, old_size, int(saved_head["timestamp"]), old_root,
                                  _b64(saved_head["signature"]))
            if old_size > size:
                raise merkle.ProofError(f"the log shrank from {old_size} to {size} entries")
            if old_size > 0:
                proof = _get(http, f"{prefix}/proof/consistency", first=old_size, second=size)["proof"]
                merkle.verify_consistency(old_size, size, old_root, root, [_b64(p) for p in proof])
                checked_from = old_size
        checked = 0
        if check_entries and size:
            tree = merkle.MemoryNodes()
            while checked < size:
                batch = _get(http, f"{prefix}/entries", start=checked, end=min(size, checked + 1000))
                if not batch:
                    raise merkle.ProofError(f"the log returned no entries at position {checked}")
                for item in batch:
                    if int(item["position"]) != checked:
                        raise merkle.ProofError(f"expected entry {checked}, got {item['position']}")
                    tree.append_leaf(merkle.leaf_hash(_b64(item["leaf_input"])))
                    checked += 1
                    if checked == size:
                        break
                if progress is not None:
                    progress(checked, size)
            if merkle.root(tree, size) != root:
                raise merkle.ProofError("the entries do not hash to the signed root: the log was altered")
        return AuditResult(size, head["root_hash"], int(head["timestamp"]), checked_from, checked)
    finally:
        if client is None:
            http.close()


def _get(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(path, params=params)
    if response.status_code != 200:
        raise merkle.ProofError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return response.json()
