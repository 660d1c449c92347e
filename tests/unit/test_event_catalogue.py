"""The event catalogue, checked as Zulip checks its event schemas: every event type has a producer,
a shape that survives the outbox's JSON, and a consumer or a replication rule — or says why not."""

from __future__ import annotations

import ast
import json
import types
import typing
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest

import stoa
import stoa.app  # the assembled application: every event, consumer and rule it knows
from stoa.social.events import BlockCreated, FavouriteDeleted, StatusCreated, StatusUpdated
from stoa.store.events import CATALOGUE, ORIGIN, Event, MalformedEvent, decode
from stoa.store.replication import RULES, ReplicationRules
from stoa.worker import consumers

SOURCE = Path(stoa.__file__).parent


@cache
def _parsed() -> list[ast.Module]:
    return [ast.parse(path.read_text(), str(path)) for path in sorted(SOURCE.rglob("*.py"))]


@cache
def _emitted() -> set[str]:
    """Names of the event classes constructed as the event argument of an ``emit(...)`` call."""
    found: set[str] = set()
    for tree in _parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "emit" \
                    and len(node.args) >= 2:
                found |= {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
    return found


def _defined() -> set[str]:
    """Names of the classes in the source that subclass ``Event``."""
    return {node.name for tree in _parsed() for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "Event" for b in node.bases)}


def _example_value(hint: Any) -> Any:
    """A JSON-representable example for a field's type; fails for a type the outbox cannot store."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return _example_value(next(a for a in args if a is not type(None)))
    if origin is list:
        return [_example_value(args[0]), _example_value(args[0])]
    examples = {int: 7_000_000_000_123, str: "it", bool: True}
    assert hint in examples, f"{hint!r} is not a type the outbox's JSON keeps"
    return examples[hint]


def _example(cls: type[Event]) -> Event:
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _example_value(hints[f.name]) for f in fields(cls)})


def _consumed() -> set[str]:
    assembled = consumers(cast(Any, None), cast(Any, None), "here")  # only their subscriptions are read
    return {t for c in assembled for t in (c.types or set())}


EVENTS = sorted(CATALOGUE.values(), key=lambda cls: cls.type)


def test_every_event_defined_in_the_source_is_in_the_catalogue() -> None:
    assert _defined() == {cls.__name__ for cls in EVENTS}


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: cls.type)
def test_every_event_has_a_producer(cls: type[Event]) -> None:
    assert cls.__name__ in _emitted(), f"nothing emits {cls.type}"


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: cls.type)
def test_every_event_survives_the_outbox(cls: type[Event]) -> None:
    example = _example(cls)
    stored = json.loads(json.dumps(example.payload()))
    assert decode(cls.type, stored) == example
    assert decode(cls.type, {**stored, ORIGIN: "eu", "no_longer_defined": 1}) == example


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: cls.type)
def test_every_event_is_consumed_replicated_or_says_why_not(cls: type[Event]) -> None:
    used = cls.type in _consumed() or cls.type in RULES.types()
    if cls.unconsumed is None:
        assert used, f"{cls.type}: no consumer, no replication rule, and no stated reason"
    else:
        assert not used, f"{cls.type} says it is unconsumed ({cls.unconsumed!r}) but is used"
        assert len(cls.unconsumed) > 20


@pytest.mark.parametrize("cls", [cls for cls in EVENTS if cls.private], ids=lambda cls: cls.type)
def test_private_events_never_replicate(cls: type[Event]) -> None:
    assert cls.type not in RULES.types()
    with pytest.raises(TypeError, match="private"):
        ReplicationRules().on(cls)


def test_the_private_events_are_those_about_private_data() -> None:
    assert {cls.type for cls in EVENTS if cls.private} == {
        "mute.created", "mute.deleted", "for_you.less", "for_you.label", "for_you.reset", "view.recorded",
        "bookmark.created", "bookmark.deleted", "marker.saved", "notification.dismissed", "notifications.cleared",
        "suggestion.dismissed"}


def test_rows_stored_before_a_field_existed_still_decode() -> None:
    assert decode("favourite.deleted", {"account_id": 1, "status_id": 2}) == FavouriteDeleted(1, 2, None)
    edited = decode("status.updated", {"status_id": 3, "account_id": 1, "new_mentions": [4], "visibility": "public"})
    assert isinstance(edited, StatusUpdated) and edited.dropped_mentions == []
    boost = decode("status.created", {"status_id": 5, "account_id": 1, "visibility": "public", "mentions": [],
                                      "tags": [], "in_reply_to_id": None, "reblog_of_id": 3})
    assert boost == StatusCreated(5, 1, "public", reblog_of_id=3)


def test_an_unknown_type_decodes_to_nothing_and_a_broken_row_names_itself() -> None:
    assert decode("poll.voted", {"account_id": 1}) is None
    with pytest.raises(MalformedEvent, match=r"block\.created.*target_account_id"):
        decode(BlockCreated.type, {"account_id": 1})


def test_an_event_type_is_defined_once() -> None:
    with pytest.raises(TypeError, match="defined twice"):
        type("Again", (Event,), {}, name="block.created")
