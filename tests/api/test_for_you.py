"""For You: differs from chronological, answers a like on the next page, explains itself, and can run unprofiled."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import AppClient, User, drain, post_id, sign_up


async def feed(client: AppClient, user: User, **params: str) -> list[str]:
    response = await client.get("/api/v1/timelines/for_you", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def test_for_you_learns_from_a_like_and_explains_it(client: AppClient) -> None:
    me, cyclist, chef, friend = (await sign_up(client, "me"), await sign_up(client, "cyclist"),
                                 await sign_up(client, "chef"), await sign_up(client, "friend"))
    await client.post(f"/api/v1/accounts/{friend.id}/follow", headers=me.headers)
    ride = await post_id(client, cyclist, "Morning ride along the coast #cycling")
    climb = await post_id(client, cyclist, "Hill repeats today #cycling")
    soup = await post_id(client, chef, "Tomato soup, the recipe #cooking")
    news = await post_id(client, friend, "Friend's news, chronologically newest")
    await drain(client)

    chronological = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=me.headers)).json()]
    assert chronological == [news]  # home shows only people I follow
    before = await feed(client, me)
    assert set(before) >= {ride, climb, soup, news}  # For You also brings the wider public square
    assert before != chronological

    assert (await client.post(f"/api/v1/statuses/{ride}/favourite", headers=me.headers)).status_code == 200
    after = await feed(client, me)
    assert after.index(climb) < after.index(soup)  # one like later, more cycling, before cooking
    assert ride in after

    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{climb}", headers=me.headers)).json()
    assert (why["in_feed"] is True and "trending" in why["sources"]) or "exploration" in why["sources"]
    names = {f["name"]: f for f in why["features"]}
    assert names["author_affinity"]["value"] > 0 and names["tag_affinity"]["value"] > 0
    assert "#cycling" in why["sentence"] and why["sentence"].startswith("Because")

    unprofiled = await client.get("/api/v1/stoa/feeds/for_you/explain/" + climb, headers=me.headers,
                                  params={"mode": "none"})
    assert {f["name"] for f in unprofiled.json()["features"]} == {"engagement", "freshness", "language_match"}
    assert set(await feed(client, me, mode="none")) >= {climb, soup}


async def test_policy_and_errors(client: AppClient) -> None:
    me, loud, muted = await sign_up(client, "me"), await sign_up(client, "loud"), await sign_up(client, "muted")
    for i in range(5):
        await post_id(client, loud, f"loud post {i}")
    hidden = await post_id(client, muted, "you will not see this")
    mine = await post_id(client, me, "my own post")
    await client.post(f"/api/v1/accounts/{muted.id}/mute", headers=me.headers)
    await drain(client)
    page = (await client.get("/api/v1/timelines/for_you", headers=me.headers)).json()
    assert [s["account"]["username"] for s in page] == ["loud"] * 5  # nothing else to show: spread holds none back
    assert hidden not in [s["id"] for s in page] and mine not in [s["id"] for s in page]

    assert (await client.get("/api/v1/timelines/for_you")).status_code == 401
    assert (await client.get("/api/v1/timelines/for_you", headers=me.headers,
                             params={"mode": "telepathy"})).status_code == 422
    assert (await client.get("/api/v1/stoa/feeds/for_you/explain/999", headers=me.headers)).status_code == 404
    gone = await client.get(f"/api/v1/stoa/feeds/for_you/explain/{hidden}", headers=me.headers)
    assert gone.status_code == 200 and gone.json()["in_feed"] is False


async def test_a_page_spreads_authors_hashtags_and_languages(client: AppClient) -> None:
    me, loud = await sign_up(client, "me"), await sign_up(client, "loud")
    await client.post(f"/api/v1/accounts/{loud.id}/follow", headers=me.headers)  # ranks loud's posts high
    loud_posts = [await post_id(client, loud, f"loud post {i}") for i in range(5)]
    football = []
    for i in range(5):  # followed too: without the spread, their posts would fill the top of the page
        fan = await sign_up(client, f"fan{i}")
        await client.post(f"/api/v1/accounts/{fan.id}/follow", headers=me.headers)
        football.append(await post_id(client, fan, f"Match day {i} #football"))
    plain = [await post_id(client, await sign_up(client, f"plain{i}"), f"Just a thought {i}") for i in range(12)]
    italian = []
    for i in range(3):
        writer = await sign_up(client, f"scrittore{i}")
        italian += [await post_id(client, writer, f"Pensiero {i}.{j}", language="it") for j in range(2)]
    await client.post(f"/api/v1/statuses/{italian[0]}/favourite", headers=me.headers)  # I read Italian too
    await drain(client)

    first = (await client.get("/api/v1/timelines/for_you", headers=me.headers, params={"limit": "20"})).json()
    second = (await client.get("/api/v1/timelines/for_you", headers=me.headers,
                               params={"limit": "20", "offset": "20"})).json()
    ids = [s["id"] for s in first]
    assert len(first) == 20 and sum(i in loud_posts for i in ids) == 2  # at most two per author on a page
    assert sum(i in football for i in ids) == 3  # at most three per hashtag
    assert sum(s["language"] == "en" for s in first) <= 15 and sum(i in italian for i in ids) >= 5
    everything = ids + [s["id"] for s in second]
    assert sorted(everything) == sorted(loud_posts + football + plain + italian)  # held back, never dropped
    later = next(i for i in loud_posts if i not in ids)
    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{later}", headers=me.headers)).json()
    assert why["position"] >= 20 and "moved down the feed to spread authors, hashtags and languages" in why["policy"]


async def test_labels_the_viewer_hides_leave_the_feed(client: AppClient) -> None:
    me, author, robot = await sign_up(client, "me"), await sign_up(client, "author"), await sign_up(client, "robot")
    await client.patch("/api/v1/accounts/update_credentials", headers=robot.headers, data={"bot": "true"})
    plain = await post_id(client, author, "Nothing to warn about")
    sensitive = await post_id(client, author, "Surgery photos", sensitive="true")
    warned = await post_id(client, author, "Spoilers for the finale", spoiler_text="finale")
    automated = await post_id(client, robot, "Hourly weather: 14 C")
    await drain(client)
    assert set(await feed(client, me)) == {plain, sensitive, warned, automated}

    async def label(name: str, action: str) -> httpx.Response:
        return await client.post("/api/v1/stoa/feeds/for_you/labels", headers=me.headers,
                                 data={"label": name, "action": action})

    chosen = await label("sensitive", "hide")
    assert chosen.status_code == 200
    assert {x["label"]: x["action"] for x in chosen.json()["labels"]} == {
        "sensitive": "hide", "content_warning": "show", "bot": "show"}
    await label("bot", "hide")
    assert set(await feed(client, me)) == {plain}  # a content warning marks a post sensitive (as Mastodon does)
    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{plain}", headers=me.headers)).json()
    assert any("marked sensitive by its author" in p and "automated account" in p for p in why["policy"])
    await client.post("/api/v1/stoa/feeds/for_you/reset", headers=me.headers)  # a setting, not history: it stays
    assert set(await feed(client, me)) == {plain}
    await label("bot", "show")
    await label("sensitive", "show")
    await label("content_warning", "hide")
    assert set(await feed(client, me)) == {plain, sensitive, automated}
    assert (await label("nsfw", "hide")).status_code == 422
    assert (await label("bot", "mute")).status_code == 422
    assert (await client.post("/api/v1/stoa/feeds/for_you/labels", data={"label": "bot", "action": "hide"})
            ).status_code == 401


async def test_show_less_reset_and_signals(client: AppClient) -> None:
    me, cyclist, chef = await sign_up(client, "me"), await sign_up(client, "cyclist"), await sign_up(client, "chef")
    ride = await post_id(client, cyclist, "Gravel ride #cycling")
    climb = await post_id(client, cyclist, "Alpine climb #cycling")
    soup = await post_id(client, chef, "Soup #cooking")
    await client.post(f"/api/v1/statuses/{ride}/favourite", headers=me.headers)
    await drain(client)
    signals = (await client.get("/api/v1/stoa/feeds/for_you/signals", headers=me.headers)).json()
    assert signals["tag_affinity"] == [{"tag": "cycling", "engagements": 1}]
    assert signals["author_affinity"] == [{"account_id": cyclist.id, "engagements": 1}]

    before = await feed(client, me)
    assert before.index(climb) < before.index(soup)
    less = await client.post("/api/v1/stoa/feeds/for_you/less", headers=me.headers, data={"tag": "#Cycling"})
    assert less.status_code == 200 and less.json()["show_less"]["tags"] == ["cycling"]
    after = await feed(client, me)
    assert after.index(climb) > after.index(soup)  # asked for less cycling: it drops below cooking
    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{climb}", headers=me.headers)).json()
    assert "asked to see less" in why["sentence"]
    await client.post("/api/v1/stoa/feeds/for_you/less", headers=me.headers, data={"status_id": soup})
    assert soup not in await feed(client, me)

    reset = (await client.post("/api/v1/stoa/feeds/for_you/reset", headers=me.headers)).json()
    assert reset["tag_affinity"] == [] and reset["show_less"] == {"statuses": [], "accounts": [], "tags": []}
    assert reset["history_reset_at"] is not None
    assert soup in await feed(client, me)

    for data, status in [({}, 422), ({"tag": "x", "account_id": cyclist.id}, 422), ({"status_id": "999"}, 404),
                         ({"account_id": "999"}, 404)]:
        response = await client.post("/api/v1/stoa/feeds/for_you/less", headers=me.headers, data=data)
        assert response.status_code == status, (data, response.text)


async def test_views_watch_time_and_skips_shape_the_next_page(client: AppClient) -> None:
    me, dancer, bore, other = (await sign_up(client, "me"), await sign_up(client, "dancer"),
                               await sign_up(client, "bore"), await sign_up(client, "other"))
    first_dance = await post_id(client, dancer, "Dance practice #dance")
    second_dance = await post_id(client, dancer, "More moves #dance")
    dull = [await post_id(client, bore, f"Dull update {i}") for i in range(2)]
    await post_id(client, other, "Something else entirely")
    await drain(client)
    before = await feed(client, me)
    assert first_dance in before and second_dance in before

    async def view(status_id: str, **fields: str) -> httpx.Response:
        return await client.post("/api/v1/stoa/feeds/views", headers=me.headers,
                                 data={"status_id": status_id, **fields})

    assert (await view(first_dance, watched_ms="12000")).status_code == 200  # watched to the end, twice
    assert (await view(first_dance, watched_ms="9000")).status_code == 200
    assert (await view(dull[0], watched_ms="300", skipped="true")).status_code == 200
    after = await feed(client, me)  # the very next page
    assert first_dance not in after and dull[0] not in after  # seen: not served again
    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{second_dance}", headers=me.headers)).json()
    assert {f["name"]: f["value"] for f in why["features"]}["author_affinity"] > 0  # the long watch counted
    assert any("already seen" in p for p in why["policy"])
    dull_why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{dull[1]}", headers=me.headers)).json()
    assert {f["name"]: f["value"] for f in dull_why["features"]}["skipped_author"] > 0
    assert "skipped 1 posts by this author" in dull_why["sentence"]
    seen_why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{first_dance}", headers=me.headers)).json()
    assert seen_why["in_feed"] is False and seen_why["policy"] == ["already seen"]
    assert set(await feed(client, me, mode="none")) >= {first_dance, dull[0]}  # no profiling: views unused

    signals = (await client.get("/api/v1/stoa/feeds/for_you/signals", headers=me.headers)).json()
    assert signals["seen_posts"] == 2 and signals["skipped_authors"] == [{"account_id": bore.id, "skips": 1}]

    for bad, status in [({"status_id": "999999999"}, 404), ({}, 422), ({"status_id": "abc"}, 422),
                        ({"status_id": first_dance, "watched_ms": "-5"}, 422),
                        ({"status_id": first_dance, "watched_ms": "99999999999"}, 422)]:
        response = await client.post("/api/v1/stoa/feeds/views", headers=me.headers, data=bad)
        assert response.status_code == status, (bad, response.text)
    assert (await client.post("/api/v1/stoa/feeds/views", data={"status_id": first_dance})).status_code == 401
    await client.post("/api/v1/stoa/feeds/for_you/reset", headers=me.headers)
    assert first_dance in await feed(client, me)  # "reset my history" forgets what was seen


async def test_co_engagement_brings_what_people_with_my_taste_liked(client: AppClient) -> None:
    me, peer, stranger, author = [await sign_up(client, name) for name in ("me", "peer", "stranger", "author")]
    shared = await post_id(client, author, "A climb everyone talks about")
    gem = await post_id(client, stranger, "An obscure mountain pass, worth the ride")
    other = await post_id(client, stranger, "Unrelated gardening tips")
    await client.post(f"/api/v1/statuses/{shared}/favourite", headers=peer.headers)
    await client.post(f"/api/v1/statuses/{gem}/favourite", headers=peer.headers)
    await client.post(f"/api/v1/statuses/{other}/favourite", headers=author.headers)  # liked, but not by my peers
    await drain(client)

    before = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{gem}", headers=me.headers)).json()
    assert "co-engagement" not in before.get("sources", [])
    await client.post(f"/api/v1/statuses/{shared}/favourite", headers=me.headers)
    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{gem}", headers=me.headers)).json()
    assert "co-engagement" in why["sources"]
    assert {f["name"]: f["value"] for f in why["features"]}["co_engagement"] > 0
    assert "1 person who liked posts you liked also liked this" in why["sentence"]
    unrelated = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{other}", headers=me.headers)).json()
    assert "co-engagement" not in unrelated.get("sources", [])
    # The feed without profiling does not look at what I liked.
    unprofiled = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{gem}", headers=me.headers,
                                   params={"mode": "none"})).json()
    assert "co-engagement" not in unprofiled.get("sources", [])
    # "Reset my history" forgets the likes that seeded it.
    await client.post("/api/v1/stoa/feeds/for_you/reset", headers=me.headers)
    after = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{gem}", headers=me.headers)).json()
    assert "co-engagement" not in after.get("sources", [])


async def test_similar_posts_reach_me_before_anyone_engages(client: AppClient,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from stoa.feeds import similar

    monkeypatch.setattr(similar, "REFRESH_SECONDS", 0.0)  # index new vectors on every request
    me, climber, cook = await sign_up(client, "me"), await sign_up(client, "climber"), await sign_up(client, "cook")
    liked = await post_id(client, climber, "Ciclismo in montagna: le salite delle Dolomiti in bici #ciclismo",
                       language="it")
    await client.post(f"/api/v1/statuses/{liked}/favourite", headers=me.headers)
    # Two brand-new posts nobody has engaged with, by people I do not follow.
    ride = await post_id(client, cook, "Giro in bici sulle Dolomiti, salita dura ma che panorama #ciclismo",
                      language="it")
    soup = await post_id(client, cook, "Sugo di pomodoro e basilico, la ricetta #cucina", language="it")
    sortie = await post_id(client, cook, "Sortie à vélo en montagne, quelle montée !", language="fr")  # no word shared
    await drain(client)
    abroad = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{sortie}", headers=me.headers)).json()
    assert "similar" in abroad["sources"]  # found across languages too, by meaning

    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{ride}", headers=me.headers)).json()
    assert "similar" in why["sources"] and "reads like posts you liked or watched" in why["sentence"]
    values = {f["name"]: f["value"] for f in why["features"]}
    other = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{soup}", headers=me.headers)).json()
    other_values = {f["name"]: f["value"] for f in other.get("features", [])}
    assert values["similarity"] > other_values.get("similarity", 0.0) + 0.3
    abroad_values = {f["name"]: f["value"] for f in abroad["features"]}
    assert abroad_values["similarity"] > other_values.get("similarity", 0.0) + 0.3
    page = await feed(client, me)
    assert ride in page and soup not in page[:page.index(ride)]  # the ride outranks the soup
    # A deleted post leaves the candidates even while the index still holds it.
    await client.delete(f"/api/v1/statuses/{ride}", headers=cook.headers)
    await drain(client)
    assert ride not in await feed(client, me)
    # The feed without profiling does not use my taste.
    unprofiled = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{soup}", headers=me.headers,
                                   params={"mode": "none"})).json()
    assert "similar" not in unprofiled.get("sources", [])


async def test_pages_follow_the_link_header_as_on_any_mastodon_timeline(client: AppClient) -> None:
    me = await sign_up(client, "me")
    posts = set()
    for i in range(9):
        writer = await sign_up(client, f"writer{i}")
        posts |= {await post_id(client, writer, f"Post {i}.{j}") for j in range(3)}
    await drain(client)

    first = await client.get("/api/v1/timelines/for_you", headers=me.headers, params={"limit": "10"})
    ids = [s["id"] for s in first.json()]
    assert len(ids) == 10 and f"max_id={ids[-1]}" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    pages = [ids]
    link = first.headers["Link"]
    while link:  # follow the Link header exactly as a client does
        following = await client.get(link[1:link.index(">")], headers=me.headers)
        pages.append([s["id"] for s in following.json()])
        link = following.headers.get("Link", "")
    served = [i for page in pages for i in page]
    assert len(served) == len(set(served)) == 27 and set(served) == posts  # every post once
    bad = await client.get("/api/v1/timelines/for_you", headers=me.headers, params={"max_id": "nonsense"})
    assert bad.status_code == 422 and "max_id" in bad.text
    # max_id and offset agree on the same ranking.
    assert await feed(client, me, limit="10", max_id=ids[-1]) == await feed(client, me, limit="10", offset="10")
    # A client that reports what it showed: the post named by max_id is gone, so the next page is the
    # top of what is still unseen.
    for status_id in ids:
        await client.post("/api/v1/stoa/feeds/views", headers=me.headers, data={"status_id": status_id})
    after_seen = await feed(client, me, limit="10", max_id=ids[-1])
    assert after_seen == await feed(client, me, limit="10") and len(after_seen) == 10
    assert not set(after_seen) & set(ids)
