"""The transparency log over HTTP: signed heads, proofs that verify, clear errors, tampering caught."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import update

from stoa.core.errors import ValidationFailed
from stoa.residency import merkle
from stoa.residency.transparency import Record, TransparencyLog, node_key, verify_head_signature
from stoa.store.schema import transparency_entries, transparency_nodes
from tests.helpers import AppClient, sign_up

PREFIX = "/api/v1/stoa/transparency/local"


def b(text: str) -> bytes:
    return base64.b64decode(text)


def log_of(client: AppClient) -> TransparencyLog:
    return client.app.state.transparency["local"]


async def test_heads_and_proofs_verify(client: AppClient) -> None:
    log = log_of(client)
    empty = (await client.get(f"{PREFIX}/head")).json()
    assert empty["size"] == 0
    await log.append([Record("operator:test", "user.list", f"review {i}") for i in range(5)])
    old = (await client.get(f"{PREFIX}/head")).json()
    await log.append([Record("operator:test", "user.list", f"review {i}") for i in range(5, 13)])
    head = (await client.get(f"{PREFIX}/head")).json()
    key = b((await client.get(f"{PREFIX}/key")).json()["public_key"])
    for h in (old, head):
        verify_head_signature(key, "local", h["size"], h["timestamp"], b(h["root_hash"]), b(h["signature"]))
    assert head["size"] == 13

    entries = (await client.get(f"{PREFIX}/entries", params={"start": 0, "end": 13})).json()
    assert [e["entry"]["reason"] for e in entries] == [f"review {i}" for i in range(13)]
    for entry in entries:
        proof = (await client.get(f"{PREFIX}/proof/inclusion",
                                  params={"position": entry["position"], "size": 13})).json()
        assert proof["leaf_hash"] == entry["leaf_hash"]
        merkle.verify_inclusion(b(entry["leaf_hash"]), entry["position"], 13, [b(p) for p in proof["path"]],
                                b(head["root_hash"]))
    consistency = (await client.get(f"{PREFIX}/proof/consistency", params={"first": 5, "second": 13})).json()
    merkle.verify_consistency(5, 13, b(old["root_hash"]), b(head["root_hash"]),
                              [b(p) for p in consistency["proof"]])


async def test_bad_requests_get_clear_errors(client: AppClient) -> None:
    await log_of(client).append([Record("operator:test", "user.list", "one"), Record("o", "a", "two")])
    cases = [
        ("/api/v1/stoa/transparency/mars/head", {}, 404),
        (f"{PREFIX}/proof/inclusion", {"position": 2, "size": 2}, 422),
        (f"{PREFIX}/proof/inclusion", {"position": 0, "size": 3}, 422),
        (f"{PREFIX}/proof/inclusion", {"position": "x", "size": 2}, 422),
        (f"{PREFIX}/proof/inclusion", {"size": 2}, 400),
        (f"{PREFIX}/proof/consistency", {"first": 0, "second": 2}, 422),
        (f"{PREFIX}/proof/consistency", {"first": 2, "second": 9}, 422),
        (f"{PREFIX}/entries", {"start": 5}, 422),
        (f"{PREFIX}/entries", {"start": 1, "end": 1}, 400),
    ]
    for path, params, status in cases:
        response = await client.get(path, params=params)
        assert response.status_code == status, (path, params, response.text)
        assert "error" in response.json()


async def test_a_reason_is_required(client: AppClient) -> None:
    with pytest.raises(ValidationFailed):
        await log_of(client).append([Record("operator:test", "user.list", "  ")])
    assert (await client.get(f"{PREFIX}/head")).json()["size"] == 0  # nothing half-written


async def test_people_see_the_entries_about_them(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await log_of(client).append([Record("operator:test", "user.suspend", "spam", int(alice.id)),
                                 Record("operator:test", "token.create", "support", int(bob.id))])
    mine = (await client.get("/api/v1/stoa/transparency/mine", headers=alice.headers)).json()
    assert [(e["entry"]["action"], e["entry"]["reason"]) for e in mine] == [("user.suspend", "spam")]
    assert (await client.get("/api/v1/stoa/transparency/mine")).status_code == 401


async def test_tampering_with_the_store_is_detected(client: AppClient) -> None:
    log = log_of(client)
    await log.append([Record("operator:test", "user.list", f"review {i}") for i in range(9)])
    head = (await client.get(f"{PREFIX}/head")).json()
    db = client.db
    # Rewrite an entry's text: re-hashing the entries no longer gives the signed root.
    async with db.write() as conn:
        await conn.execute(update(transparency_entries).where(transparency_entries.c.position == 3)
                           .values(leaf_input=b'{"reason":"nothing to see"}'))
    entries = (await client.get(f"{PREFIX}/entries", params={"start": 0, "end": 9})).json()
    rebuilt = merkle.MemoryNodes()
    for entry in entries:
        rebuilt.append_leaf(merkle.leaf_hash(b(entry["leaf_input"])))
    assert merkle.root(rebuilt, 9) != b(head["root_hash"])
    # Rewrite a stored tree node: proofs built from it no longer verify against the signed head.
    async with db.write() as conn:
        await conn.execute(update(transparency_nodes).where(transparency_nodes.c.node == node_key(2, 0))
                           .values(hash=bytes(32)))
    proof = (await client.get(f"{PREFIX}/proof/inclusion", params={"position": 7, "size": 9})).json()
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(b(proof["leaf_hash"]), 7, 9, [b(p) for p in proof["path"]], b(head["root_hash"]))
