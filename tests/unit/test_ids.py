import time
from datetime import UTC, datetime

from stoa.store import ids


def test_ids_are_unique_increasing_and_time_ordered() -> None:
    made = [ids.new_id() for _ in range(10_000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert abs(ids.time_of(made[-1]) - time.time()) < 5


def test_a_date_converts_to_an_id_boundary() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    boundary = ids.id_for_time(moment)
    assert ids.time_of(boundary) == moment.timestamp()
    assert ids.new_id() > boundary


def test_only_ascii_decimal_ids_parse() -> None:
    assert ids.parse("117670120786656256") == 117670120786656256
    assert ids.parse(" 42 ") == 42
    for bad in ("¹", "١٢", "-1", "1e3", "", "99999999999999999999", str(2**63), "abc"):
        assert ids.parse(bad) is None, bad
