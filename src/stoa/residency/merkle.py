"""RFC 9162 (Certificate Transparency 2.0) Merkle trees: hashes, inclusion and consistency proofs.

The tree over entries d[0..n) is hashed as in RFC 9162 §2.1.1:

    MTH({})     = SHA-256()
    MTH({d0})   = SHA-256(0x00 || d0)
    MTH(D[n])   = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = largest power of two < n

Every left subtree in that recursion is complete and aligned (it covers [i·2^j, (i+1)·2^j)), so
once written its hash never changes. ``NodeStore`` keeps exactly those hashes; any tree head or
proof is then O(log n) stored hashes away, which is what makes proofs at a million entries cheap.
Proof generation (§2.1.3.1, §2.1.4.1) and verification (§2.1.3.2, §2.1.4.2) are plain functions,
so an auditor can check our answers with nothing but this file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_BYTES = 32  # SHA-256
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof request outside the tree, or a proof that does not verify."""


def require_hash(value: bytes, what: str) -> None:
    """Every node of the tree is a SHA-256 digest: anything else is not a hash of this tree.

    Without this, a zero-length leaf and a zero-length root would "verify" each other, because the
    verifiers only compare what they are given.
    """
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_BYTES:
        length = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise ProofError(f"{what} must be a {HASH_BYTES}-byte SHA-256 hash, got {length} bytes")


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class NodeSource(Protocol):
    def get(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree covering leaves [index·2^level, (index+1)·2^level)."""
        ...


class MemoryNodes:
    """Complete-subtree hashes in memory: append leaves, read any head or proof."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]
        self.size = 0

    def get(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def append_leaf(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns every (level, index, hash) this completed, for durable storage."""
        written = [(0, self.size, leaf)]
        self.levels[0].append(leaf)
        index, level, current = self.size, 0, leaf
        while index % 2 == 1:  # a right child completes its parent
            current = node_hash(self.levels[level][index - 1], current)
            level, index = level + 1, index // 2
            if len(self.levels) == level:
                self.levels.append([])
            self.levels[level].append(current)
            written.append((level, index, current))
        self.size += 1
        return written


def subtree_hash(nodes: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range whose start is aligned as in the RFC's recursion."""
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and start % size == 0:
        return nodes.get(size.bit_length() - 1, start // size)
    k = _split(size)
    return node_hash(subtree_hash(nodes, start, start + k), subtree_hash(nodes, start + k, end))


def root(nodes: NodeSource, size: int) -> bytes:
    return subtree_hash(nodes, 0, size)


def inclusion_proof(nodes: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1): the audit path of leaf ``index`` in the tree of ``size``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(nodes, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(nodes, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(nodes: NodeSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1) between the tree heads of ``old_size`` and ``new_size``."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == new_size:
        return []
    return _subproof(nodes, old_size, 0, new_size, True)


def _subproof(nodes: NodeSource, m: int, start: int, end: int, complete: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree_hash(nodes, start, end)]
    k = _split(n)
    if m <= k:
        return [*_subproof(nodes, m, start, start + k, complete), subtree_hash(nodes, start + k, end)]
    return [*_subproof(nodes, m - k, start + k, end, False), subtree_hash(nodes, start, start + k)]


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless ``leaf`` is entry ``index`` of the tree with that root."""
    if not 0 <= index < size:
        raise ProofError("leaf index outside the tree")
    require_hash(leaf, "the leaf hash")
    require_hash(expected_root, "the root hash")
    for position, node in enumerate(path):
        require_hash(node, f"inclusion proof node {position}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != expected_root:
        raise ProofError("inclusion proof does not lead to the tree head")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the new tree extends the old one unchanged."""
    if old_size > new_size or old_size <= 0:
        raise ProofError("sizes cannot be consistent")
    require_hash(old_root, "the old root hash")
    require_hash(new_root, "the new root hash")
    for position, node in enumerate(proof):
        require_hash(node, f"consistency proof node {position}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError("equal sizes need an empty proof and equal roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("consistency proof does not match the tree heads")
