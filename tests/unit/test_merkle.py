"""The Merkle tree against a literal transcription of RFC 9162 §2.1, for every small tree."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from stoa.residency import audit, merkle
from stoa.residency.transparency import head_message


def reference_mth(entries: list[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_mth(entries[:k]) + reference_mth(entries[k:])).digest()


def reference_path(m: int, entries: list[bytes]) -> list[bytes]:
    n = len(entries)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, entries[:k]), reference_mth(entries[k:])]
    return [*reference_path(m - k, entries[k:]), reference_mth(entries[:k])]


def reference_subproof(m: int, entries: list[bytes], b: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if b else [reference_mth(entries)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, entries[:k], b), reference_mth(entries[k:])]
    return [*reference_subproof(m - k, entries[k:], False), reference_mth(entries[:k])]


def build(entries: list[bytes]) -> merkle.MemoryNodes:
    nodes = merkle.MemoryNodes()
    for entry in entries:
        nodes.append_leaf(merkle.leaf_hash(entry))
    return nodes


ENTRIES = [f"entry {i}".encode() for i in range(40)]


def test_roots_match_the_rfc_for_every_size() -> None:
    nodes = build(ENTRIES)
    assert merkle.root(nodes, 0) == hashlib.sha256(b"").digest()
    for size in range(1, len(ENTRIES) + 1):
        assert merkle.root(nodes, size) == reference_mth(ENTRIES[:size])


def test_inclusion_proofs_match_and_verify() -> None:
    nodes = build(ENTRIES)
    for size in range(1, len(ENTRIES) + 1):
        root = merkle.root(nodes, size)
        for index in range(size):
            path = merkle.inclusion_proof(nodes, index, size)
            assert path == reference_path(index, ENTRIES[:size])
            merkle.verify_inclusion(merkle.leaf_hash(ENTRIES[index]), index, size, path, root)


def test_consistency_proofs_match_and_verify() -> None:
    nodes = build(ENTRIES)
    for new in range(1, len(ENTRIES) + 1):
        for old in range(1, new + 1):
            proof = merkle.consistency_proof(nodes, old, new)
            assert proof == ([] if old == new else reference_subproof(old, ENTRIES[:new], True))
            merkle.verify_consistency(old, new, merkle.root(nodes, old), merkle.root(nodes, new), proof)


@given(st.integers(2, 60), st.data())
def test_any_tampering_is_detected(size: int, data: st.DataObject) -> None:
    entries = [f"e{i}".encode() for i in range(size)]
    nodes = build(entries)
    root = merkle.root(nodes, size)
    index = data.draw(st.integers(0, size - 1))
    path = merkle.inclusion_proof(nodes, index, size)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, path, root)
    if path:
        broken = list(path)
        broken[data.draw(st.integers(0, len(path) - 1))] = b"\x00" * 32
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(merkle.leaf_hash(entries[index]), index, size, broken, root)
    old = data.draw(st.integers(1, size - 1))
    proof = merkle.consistency_proof(nodes, old, size)
    rewritten = build([b"rewritten", *entries[1:]])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, size, merkle.root(rewritten, old), root, proof)


def test_requests_outside_the_tree_are_refused() -> None:
    nodes = build(ENTRIES[:5])
    for bad in [(5, 5), (-1, 5), (0, 0)]:
        with pytest.raises(merkle.ProofError):
            merkle.inclusion_proof(nodes, *bad)
    for old, new in [(0, 5), (6, 5)]:
        with pytest.raises(merkle.ProofError):
            merkle.consistency_proof(nodes, old, new)


def test_hashes_of_the_wrong_length_never_verify() -> None:
    """A leaf, root or proof node that is not a 32-byte digest is refused, not compared."""
    with pytest.raises(merkle.ProofError, match="32-byte"):
        merkle.verify_inclusion(b"", 0, 1, [], b"")  # an empty leaf "equal" to an empty root
    nodes = build(ENTRIES[:6])
    root = merkle.root(nodes, 6)
    leaf = merkle.leaf_hash(ENTRIES[2])
    path = merkle.inclusion_proof(nodes, 2, 6)
    merkle.verify_inclusion(leaf, 2, 6, path, root)
    for short in (b"", leaf[:31], leaf + b"\x00"):
        with pytest.raises(merkle.ProofError, match="32-byte"):
            merkle.verify_inclusion(short, 0, 1, [], short)
        with pytest.raises(merkle.ProofError, match="32-byte"):
            merkle.verify_inclusion(leaf, 2, 6, [*path[:-1], short], root)
        with pytest.raises(merkle.ProofError, match="32-byte"):
            merkle.verify_consistency(3, 3, short, short, [])
        with pytest.raises(merkle.ProofError, match="32-byte"):
            merkle.verify_consistency(4, 4, short, short, [])
    old_root = merkle.root(nodes, 4)
    proof = merkle.consistency_proof(nodes, 4, 6)
    merkle.verify_consistency(4, 6, old_root, root, proof)
    with pytest.raises(merkle.ProofError, match="32-byte"):
        merkle.verify_consistency(4, 6, old_root, root, [*proof, b""])
    with pytest.raises(merkle.ProofError, match="32-byte"):
        merkle.verify_consistency(4, 6, old_root[:16], root, proof)


def test_the_auditor_refuses_a_signed_head_whose_root_is_not_a_hash() -> None:
    """Even correctly signed, an empty root is no tree head: `stoa audit verify` fails on it."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def signed_head(root: bytes) -> dict[str, object]:
        return {"size": 1, "timestamp": 1, "root_hash": base64.b64encode(root).decode(),
                "signature": base64.b64encode(key.sign(head_message("local", 1, 1, root))).decode()}

    for root, fails in ((merkle.leaf_hash(b"entry"), False), (b"", True), (b"\x01" * 31, True)):
        transport = httpx.MockTransport(lambda request, root=root: httpx.Response(200, json=signed_head(root)))
        with httpx.Client(transport=transport, base_url="http://log") as http:
            if fails:
                with pytest.raises(merkle.ProofError, match="32-byte"):
                    audit.verify("http://log", "local", public, None, client=http)
            else:
                assert audit.verify("http://log", "local", public, None, client=http).size == 1
