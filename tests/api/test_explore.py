"""Discovery as Mastodon apps use it: trending posts in the reader's languages, and whom to follow at sign-up."""

from __future__ import annotations

from tests.helpers import AppClient, drain, sign_up


async def test_trending_posts_in_the_readers_languages(client: AppClient) -> None:
    writer, scrittore, fan, muted = (await sign_up(client, "writer"), await sign_up(client, "scrittore"),
                                     await sign_up(client, "fan"), await sign_up(client, "muted"))
    english = (await client.post("/api/v1/statuses", headers=writer.headers,
                                 data={"status": "Big news", "language": "en"})).json()["id"]
    quiet = (await client.post("/api/v1/statuses", headers=writer.headers,
                               data={"status": "Nobody liked this", "language": "en"})).json()["id"]
    italian = (await client.post("/api/v1/statuses", headers=scrittore.headers,
                                 data={"status": "Grande notizia", "language": "it"})).json()["id"]
    noisy = (await client.post("/api/v1/statuses", headers=muted.headers,
                               data={"status": "Look at me", "language": "en"})).json()["id"]
    for post in (english, italian, noisy):
        await client.post(f"/api/v1/statuses/{post}/favourite", headers=fan.headers)
    await client.post(f"/api/v1/statuses/{english}/reblog", headers=scrittore.headers)
    await drain(client)

    anonymous = (await client.get("/api/v1/trends/statuses")).json()
    assert [s["id"] for s in anonymous] == [english, noisy]  # most engagement first; nobody-liked posts absent
    assert quiet not in [s["id"] for s in anonymous]
    italian_reader = await client.get("/api/v1/trends/statuses", headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert [s["id"] for s in italian_reader.json()] == [italian]
    reader = await sign_up(client, "reader")
    await client.post(f"/api/v1/accounts/{muted.id}/mute", headers=reader.headers)
    mine = (await client.get("/api/v1/trends/statuses", headers=reader.headers)).json()
    assert [s["id"] for s in mine] == [english]  # a muted author's post is not shown to me
    first = await client.get("/api/v1/trends/statuses", params={"limit": "1"})
    assert [s["id"] for s in first.json()] == [english] and 'rel="next"' in first.headers["link"]
    assert (await client.get("/api/v1/trends/statuses", params={"limit": "many"})).status_code == 422


async def test_follow_suggestions_for_a_newcomer_and_after_the_first_follows(client: AppClient) -> None:
    star, poet, reporter, liker = (await sign_up(client, "star"), await sign_up(client, "poeta", locale="it"),
                                   await sign_up(client, "reporter"), await sign_up(client, "liker"))
    for fan in [await sign_up(client, f"fan{i}") for i in range(3)]:
        await client.post(f"/api/v1/accounts/{star.id}/follow", headers=fan.headers)
        await client.post(f"/api/v1/accounts/{reporter.id}/follow", headers=fan.headers)
    await client.post(f"/api/v1/accounts/{reporter.id}/follow", headers=star.headers)
    poem = (await client.post("/api/v1/statuses", headers=poet.headers,
                              data={"status": "Una poesia", "language": "it"})).json()["id"]
    await client.post(f"/api/v1/statuses/{poem}/favourite", headers=liker.headers)
    await drain(client)

    newcomer = await sign_up(client, "nuovo", locale="it")
    offered = (await client.get("/api/v2/suggestions", headers=newcomer.headers)).json()
    by_name = {s["account"]["username"]: s["sources"] for s in offered}
    assert by_name["poeta"] == ["most_interactions"]  # writes what is popular in my language
    assert by_name["reporter"] == by_name["star"] == ["most_followed"]
    assert [s["account"]["username"] for s in offered][:3] == ["poeta", "reporter", "star"]
    assert "nuovo" not in by_name

    await client.post(f"/api/v1/accounts/{star.id}/follow", headers=newcomer.headers)
    await drain(client)
    offered = (await client.get("/api/v2/suggestions", headers=newcomer.headers)).json()
    by_name = {s["account"]["username"]: s["sources"] for s in offered}
    assert "star" not in by_name  # already followed
    assert by_name["reporter"][0] == "friends_of_friends" and offered[0]["account"]["username"] == "reporter"

    assert (await client.delete(f"/api/v1/suggestions/{reporter.id}", headers=newcomer.headers)).status_code == 200
    v1 = (await client.get("/api/v1/suggestions", headers=newcomer.headers)).json()
    assert "reporter" not in [a["username"] for a in v1] and "poeta" in [a["username"] for a in v1]
    assert (await client.delete("/api/v1/suggestions/12345", headers=newcomer.headers)).status_code == 404
    assert (await client.get("/api/v2/suggestions")).status_code == 401
    assert (await client.get("/api/v2/suggestions", headers=newcomer.headers,
                             params={"limit": "lots"})).status_code == 422
