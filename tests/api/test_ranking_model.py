"""A ranking model learned from views and likes serves only once it is logged, and only while its file
matches the log; a tampered file is refused and the previous model serves."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from stoa.cli import app
from stoa.config import Settings
from stoa.feeds import ranking_model
from tests.helpers import drain, sign_up

runner = CliRunner()


def test_fit_learns_the_direction_and_refuses_too_little_data() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 0.5 * x[:, 2] + rng.normal(scale=0.3, size=400) > 0).astype(float)
    trained = ranking_model.fit(x, y, ["a", "b", "c"])
    assert trained["weights"]["a"] > 0 > trained["weights"]["c"]
    assert abs(trained["weights"]["b"]) < trained["weights"]["a"] / 3
    assert trained["auc_held_out"] > 0.9
    with pytest.raises(ranking_model.NotEnoughData, match="12 views"):
        ranking_model.fit(x[:12], y[:12], ["a", "b", "c"])
    with pytest.raises(ranking_model.NotEnoughData):
        ranking_model.fit(x, np.zeros(400), ["a", "b", "c"])  # nobody ever liked anything


async def train(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """`stoa recsys train`, as an operator runs it (in a thread: the CLI runs its own event loop)."""
    monkeypatch.setenv("STOA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STOA_DATABASE_URL", settings.resolved_database_url)
    result = await asyncio.to_thread(runner.invoke, app, ["recsys", "train", "--min-examples", "20", *args])
    return f"{result.exit_code}\n{result.output}"


async def test_a_learned_model_is_logged_serves_and_is_refused_when_tampered(
        client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    cyclist, chef = await sign_up(client, "cyclist"), await sign_up(client, "chef")
    viewers = [await sign_up(client, f"viewer{i}") for i in range(4)]
    rides, soups = [], []
    for i in range(6):
        rides.append((await client.post("/api/v1/statuses", headers=cyclist.headers,
                                         data={"status": f"Ride {i} #cycling", "language": "en"})).json()["id"])
        soups.append((await client.post("/api/v1/statuses", headers=chef.headers,
                                         data={"status": f"Soup {i} #cooking", "language": "en"})).json()["id"])
    await drain(client)
    assert "reason" in await train(settings, monkeypatch)  # reading people's views needs a stated reason

    async def behave(count: int) -> None:
        for viewer in viewers:
            for ride in rides[:count]:
                await client.post("/api/v1/stoa/feeds/views", headers=viewer.headers,
                                  data={"status_id": ride, "watched_ms": "9000"})
            for soup in soups[:count]:
                await client.post("/api/v1/stoa/feeds/views", headers=viewer.headers,
                                  data={"status_id": soup, "watched_ms": "200", "skipped": "true"})
            await client.post(f"/api/v1/statuses/{rides[0]}/favourite", headers=viewer.headers)

    assert (await train(settings, monkeypatch, "--reason", "nightly")).startswith("1")  # no views yet: kept
    await behave(3)
    first = await train(settings, monkeypatch, "--reason", "nightly retrain")
    assert first.startswith("0") and "model" in first, first
    newcomer = await sign_up(client, "newcomer")
    top = (await client.get("/api/v1/timelines/for_you", headers=newcomer.headers)).json()[0]["id"]
    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{top}", headers=newcomer.headers)).json()
    assert why["model"]["name"] == "for-you-learned" and why["model"]["sha256"]
    first_sha = why["model"]["sha256"]
    logged = (await client.get("/api/v1/stoa/transparency/local/entries", params={"start": 0, "end": 50})).json()
    models = [e["entry"] for e in logged if e["entry"]["action"] == "ranking.model"]
    assert [m["details"]["sha256"] for m in models] == [first_sha] and models[0]["reason"] == "nightly retrain"
    assert models[0]["details"]["weights"] == {f["name"]: f["weight"] for f in why["features"]} | {
        k: v for k, v in models[0]["details"]["weights"].items() if k not in {f["name"] for f in why["features"]}}

    await behave(6)
    assert (await train(settings, monkeypatch, "--reason", "retrain")).startswith("0")
    files = sorted((settings.data_dir / "models" / "local").glob("*.json"), key=lambda p: p.stat().st_mtime)
    assert len(files) == 2
    files[-1].write_text(files[-1].read_text().replace('"model"', '"model" ', 1))  # one byte changed
    refused_before = ranking_model.REFUSED._value.get()
    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{top}", headers=newcomer.headers)).json()
    assert why["model"]["sha256"] == first_sha  # the tampered model is refused: the previous one serves
    assert ranking_model.REFUSED._value.get() == refused_before + 1
    unprofiled = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{top}", headers=newcomer.headers,
                                   params={"mode": "none"})).json()
    assert unprofiled["model"] == {"name": "for-you-v0", "sha256": None}  # no profiling: published weights


async def test_scheduled_retraining_runs_once_per_period_across_processes(client: httpx.AsyncClient,
                                                                         settings: Settings) -> None:
    from stoa.store.schema import consumer_cursors

    db = client.app.state.store.region("local")  # type: ignore[attr-defined]
    assert await ranking_model.retrain_if_due(db, "local", settings.data_dir, 24) is None  # the period starts now
    assert await ranking_model.retrain_if_due(db, "local", settings.data_dir, 24) is None
    async with db.write() as conn:  # a day passes
        await conn.execute(consumer_cursors.update().where(consumer_cursors.c.name == ranking_model.RETRAIN_CURSOR)
                           .values(position=consumer_cursors.c.position - 25 * 3600))
    # Two worker processes wake at the same moment: one of them retrains.
    outcomes = await asyncio.gather(*[ranking_model.retrain_if_due(db, "local", settings.data_dir, 24)
                                      for _ in range(2)])
    ran = [o for o in outcomes if o is not None]
    assert len(ran) == 1 and ran[0].startswith("kept the current model: not enough")
    assert await ranking_model.retrain_if_due(db, "local", settings.data_dir, 24) is None
