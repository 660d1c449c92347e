"""A region's transparency log: append-only entries in an RFC 9162 Merkle tree with signed tree heads.

Entries record who touched whose private data and why (operator tools, exports, erasures,
moderation, ranking changes). Each entry is canonical JSON; its bytes are the Merkle leaf input.
Appending writes the entry, the complete subtrees it finishes, and a new tree head signed with the
region's Ed25519 key — in one transaction, under a lock, so the log never forks or half-writes.
Proofs are computed from stored complete-subtree hashes (O(log n) of them, fetched in one query).

Signed tree head: Ed25519 over the UTF-8 bytes of
``"stoa-tree-head-v1\\n{region}\\n{size}\\n{timestamp_ms}\\n{root_hash_hex}"``.
"""

from __future__ import annotations

import base64
import getpass
import os
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, func, select, text

from stoa.core.errors import BadRequest, NotFound, ValidationFailed
from stoa.residency import merkle
from stoa.store.database import Connection, Database
from stoa.store.schema import transparency_entries, transparency_heads, transparency_nodes

LOG_LOCK = 0x57A7  # pg_advisory_xact_lock key: one appender per region at a time
MAX_REASON = 1000
MAX_RANGE = 1000


def head_message(region: str, size: int, timestamp_ms: int, root: bytes) -> bytes:
    return f"stoa-tree-head-v1\n{region}\n{size}\n{timestamp_ms}\n{root.hex()}".encode()


class RegionKey:
    """The region's Ed25519 signing key, created on first use under the data directory (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 key")
            self.private = loaded
        else:
            self.private = Ed25519PrivateKey.generate()
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)

    @classmethod
    def for_region(cls, data_dir: Path, region: str) -> RegionKey:
        return cls(data_dir / "keys" / f"transparency-{region}.pem")

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def verify_head_signature(public_key: bytes, region: str, size: int, timestamp_ms: int, root: bytes,
                          signature: bytes) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature,
                                                               head_message(region, size, timestamp_ms, root))
    except (InvalidSignature, ValueError):
        raise merkle.ProofError("the tree head's signature does not verify with the region's key") from None


@dataclass(frozen=True)
class Record:
    """One auditable act: who did what to whose data, and why."""

    actor: str
    action: str
    reason: str
    subject_account_id: int | None = None
    details: dict[str, Any] | None = None


def operator_actor() -> str:
    """Who is at the keyboard of an operator tool: the OS user and host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"operator:{user}@{socket.gethostname()}"


def leaf_input(region: str, position: int, created_at: datetime, record: Record) -> bytes:
    return orjson.dumps({
        "region": region, "position": position, "time": created_at.isoformat(timespec="milliseconds"),
        "actor": record.actor, "action": record.action, "reason": record.reason,
        "subject_account_id": str(record.subject_account_id) if record.subject_account_id is not None else None,
        "details": record.details or {},
    }, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class TreeHead:
    region: str
    size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes


class TransparencyLog:
    def __init__(self, db: Database, region: str, key: RegionKey) -> None:
        self.db = db
        self.region = region
        self.key = key
        self._known_size = 0

    # --- writing -------------------------------------------------------------------------------

    async def append(self, records: Sequence[Record]) -> TreeHead:
        """Append records in order, in one transaction; returns the new signed tree head."""
        for record in records:
            if not record.reason or not record.reason.strip():
                raise ValidationFailed("A stated reason is required for every logged action")
            if len(record.reason) > MAX_REASON:
                raise ValidationFailed(f"The reason is limited to {MAX_REASON} characters")
            if not record.actor or not record.action:
                raise ValidationFailed("A logged action needs an actor and an action")
        async with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOG_LOCK})
            size = await self._size(conn)
            frontier = await self._frontier(conn, size)
            now = datetime.now(UTC)
            entry_rows, node_rows = [], []
            for record in records:
                data = leaf_input(self.region, size, now, record)
                entry_rows.append({"position": size, "leaf_input": data, "action": record.action,
                                   "subject_account_id": record.subject_account_id, "created_at": now})
                node_rows.extend(_push(frontier, size, merkle.leaf_hash(data)))
                size += 1
            for i in range(0, len(entry_rows), 5000):
                await conn.execute(transparency_entries.insert(), entry_rows[i:i + 5000])
            for i in range(0, len(node_rows), 5000):
                await conn.execute(transparency_nodes.insert(), node_rows[i:i + 5000])
            head = self._sign(size, _fold(frontier), int(time.time() * 1000))
            await conn.execute(transparency_heads.insert().values(
                size=head.size, root_hash=head.root_hash, timestamp_ms=head.timestamp_ms, signature=head.signature))
        return head

    async def record(self, record: Record) -> int:
        """Append one record; returns its position in the log."""
        head = await self.append([record])
        return head.size - 1

    def _sign(self, size: int, root: bytes, timestamp_ms: int) -> TreeHead:
        signature = self.key.sign(head_message(self.region, size, timestamp_ms, root))
        return TreeHead(self.region, size, root, timestamp_ms, signature)

    async def _size(self, conn: Connection) -> int:
        last = (await conn.execute(select(func.max(transparency_entries.c.position)))).scalar()
        return 0 if last is None else int(last) + 1

    async def _frontier(self, conn: Connection, size: int) -> dict[int, bytes]:
        """The complete subtrees along the right edge of a tree of ``size`` leaves, by level."""
        wanted = [(level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1]
        found = await _fetch_nodes(conn, wanted)
        if len(found) != len(wanted):
            raise merkle.ProofError("the stored tree is missing nodes")
        return {level: found[(level, index)] for level, index in wanted}

    # --- reading -------------------------------------------------------------------------------

    async def head(self) -> TreeHead:
        async with self.db.read() as conn:
            row = (await conn.execute(select(transparency_heads)
                                      .order_by(transparency_heads.c.size.desc()).limit(1))).first()
        if row is None:  # an empty log still has a signed head
            return self._sign(0, merkle.EMPTY_ROOT, int(time.time() * 1000))
        return TreeHead(self.region, int(row.size), bytes(row.root_hash), int(row.timestamp_ms),
                        bytes(row.signature))

    async def entries(self, start: int, end: int) -> list[Any]:
        size = (await self.head()).size
        if start < 0 or end <= start:
            raise BadRequest("start must be >= 0 and end greater than start")
        if start >= size:
            raise ValidationFailed(f"start {start} is beyond the tree size {size}")
        end = min(end, size, start + MAX_RANGE)
        async with self.db.read() as conn:
            return list((await conn.execute(select(transparency_entries).where(
                transparency_entries.c.position >= start, transparency_entries.c.position < end)
                .order_by(transparency_entries.c.position))).all())

    async def latest(self, action: str) -> dict[str, Any] | None:
        """The newest entry of ``action``, decoded; None if there is none."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(transparency_entries.c.leaf_input).where(
                transparency_entries.c.action == action).order_by(transparency_entries.c.position.desc())
                .limit(1))).first()
        if row is None:
            return None
        entry: dict[str, Any] = orjson.loads(bytes(row.leaf_input))
        return entry

    async def entries_about(self, account_id: int, limit: int = 200) -> list[Any]:
        async with self.db.read() as conn:
            return list((await conn.execute(select(transparency_entries).where(
                transparency_entries.c.subject_account_id == account_id)
                .order_by(transparency_entries.c.position.desc()).limit(limit))).all())

    async def inclusion_proof(self, position: int, size: int) -> tuple[bytes, list[bytes]]:
        """(leaf hash, audit path) of entry ``position`` in the tree of ``size`` entries."""
        async with self.db.read() as conn:
            await self._check_size(conn, size)
            if not 0 <= position < size:
                raise ValidationFailed(f"entry {position} is not in a tree of size {size}")
            nodes = await _prefetched(conn, lambda source: merkle.inclusion_proof(source, position, size),
                                      also=[(0, position)])
        return nodes.get(0, position), merkle.inclusion_proof(nodes, position, size)

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        async with self.db.read() as conn:
            await self._check_size(conn, second)
            if not 0 < first <= second:
                raise ValidationFailed("first must be at least 1 and at most second")
            nodes = await _prefetched(conn, lambda source: merkle.consistency_proof(source, first, second))
        return merkle.consistency_proof(nodes, first, second)

    async def _check_size(self, conn: Connection, size: int) -> None:
        """Refuse sizes the log has not reached. The log only grows, so a size once seen stays valid."""
        if size <= 0:
            raise ValidationFailed("size must be at least 1")
        if size <= self._known_size:
            return
        current = (await conn.execute(select(func.max(transparency_heads.c.size)))).scalar() or 0
        self._known_size = max(self._known_size, int(current))
        if size > current:
            raise ValidationFailed(f"size {size} is beyond the tree size {current}")


def node_key(level: int, position: int) -> int:
    return level << 48 | position


def _push(frontier: dict[int, bytes], size: int, leaf: bytes) -> list[dict[str, Any]]:
    """Add a leaf at position ``size``; returns the complete-subtree nodes it finishes (leaf included)."""
    written = [{"node": node_key(0, size), "hash": leaf}]
    current, level = leaf, 0
    while size >> level & 1:
        current = merkle.node_hash(frontier.pop(level), current)
        level += 1
        written.append({"node": node_key(level, size >> level), "hash": current})
    frontier[level] = current
    return written


def _fold(frontier: dict[int, bytes]) -> bytes:
    """The root of the tree whose right edge is ``frontier``."""
    root: bytes | None = None
    for level in sorted(frontier):
        root = frontier[level] if root is None else merkle.node_hash(frontier[level], root)
    return root if root is not None else merkle.EMPTY_ROOT


class _Recorder:
    """A node source that records which nodes a computation reads (hash values do not steer it)."""

    def __init__(self) -> None:
        self.wanted: set[tuple[int, int]] = set()

    def get(self, level: int, index: int) -> bytes:
        self.wanted.add((level, index))
        return bytes(32)


class _Fetched:
    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        self.nodes = nodes

    def get(self, level: int, index: int) -> bytes:
        try:
            return self.nodes[(level, index)]
        except KeyError:
            raise merkle.ProofError(f"the stored tree is missing node {level}/{index}") from None


FETCH_NODES = select(transparency_nodes).where(transparency_nodes.c.node.in_(bindparam("keys", expanding=True)))


async def _fetch_nodes(conn: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    wanted = [node_key(level, position) for level, position in keys]
    if not wanted:
        return {}
    rows = await conn.execute(FETCH_NODES, {"keys": wanted})
    return {(int(r.node) >> 48, int(r.node) & (2**48 - 1)): bytes(r.hash) for r in rows}


async def _prefetched(conn: Connection, compute: Any, also: Iterable[tuple[int, int]] = ()) -> _Fetched:
    """Fetch, in one query, every stored node ``compute`` will read (plus ``also``)."""
    recorder = _Recorder()
    compute(recorder)
    return _Fetched(await _fetch_nodes(conn, recorder.wanted | set(also)))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def require_region(regions: Sequence[str], region: str) -> None:
    if region not in regions:
        raise NotFound(f"Unknown region {region!r}")
