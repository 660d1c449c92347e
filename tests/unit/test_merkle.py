"""The Merkle tree against a literal transcription of RFC 9162 §2.1, for every small tree."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stoa.residency import merkle


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
