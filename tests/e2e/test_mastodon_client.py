"""Mastodon.py, the real client library, against a live `stoa serve` on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from mastodon import Mastodon, StreamListener
from mastodon.errors import MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until ``check()`` is truthy: fan-out and notifications are asynchronous, as in Mastodon."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def new_app(url: str, redirect_uri: str = "urn:ietf:wg:oauth:2.0:oob") -> tuple[str, str]:
    return Mastodon.create_app("stoa-e2e", api_base_url=url, redirect_uris=redirect_uri,
                               scopes=["read", "write", "follow", "push"])


def sign_up(url: str, username: str) -> Mastodon:
    client_id, client_secret = new_app(url)
    registrar = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
    token = registrar.create_account(username, PASSWORD, f"{username}@example.org", agreement=True)
    return Mastodon(access_token=token, api_base_url=url)


class Collector(StreamListener):
    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.notifications: list[Any] = []
        self.deletes: list[Any] = []

    def on_update(self, status: Any) -> None:
        self.updates.append(status)

    def on_notification(self, notification: Any) -> None:
        self.notifications.append(notification)

    def on_delete(self, status_id: Any) -> None:
        self.deletes.append(status_id)


def test_a_mastodon_client_does_everything(live_server: LiveServer) -> None:
    url = live_server.url
    instance = Mastodon(api_base_url=url).instance_v2()
    assert instance.version.startswith("4.")

    alice = sign_up(url, "alice")
    # The password grant, as first-party tools use it (by e-mail, as Mastodon.py documents).
    client_id, client_secret = new_app(url)
    first_party = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
    first_party.log_in("alice@example.org", PASSWORD, scopes=["read", "write", "follow", "push"], allow_http=True)
    assert first_party.account_verify_credentials().username == "alice"
    bob = sign_up(url, "bob")
    me = alice.account_verify_credentials()
    assert me.username == "alice" and me.source.privacy == "public"
    bob_id = bob.account_verify_credentials().id

    # Live stream for Alice, over server-sent events, before anything happens.
    listener = Collector()
    stream = alice.stream_user(listener, run_async=True, reconnect_async=False)
    try:
        time.sleep(0.5)
        follow = alice.account_follow(bob_id)
        assert follow.following is True
        hello = bob.status_post("Hello #Stoa from Bob", language="en")
        assert hello.tags[0].name == "stoa"
        assert wait_for(lambda: any(s.id == hello.id for s in alice.timeline_home()))
        assert wait_for(lambda: any(s.id == hello.id for s in listener.updates)), "stream missed the post"

        reply = alice.status_reply(hello, "Welcome Bob!")
        assert reply.in_reply_to_id == hello.id and reply.mentions[0].acct == "bob"
        boost = alice.status_reblog(hello)
        assert boost.reblog.id == hello.id
        assert alice.status_favourite(hello).favourited is True
        assert alice.status_bookmark(hello).bookmarked is True
        assert [s.id for s in alice.bookmarks()] == [hello.id]

        notes = wait_for(lambda: bob.notifications() if len(bob.notifications()) >= 4 else None)
        assert sorted(n.type for n in notes) == ["favourite", "follow", "mention", "reblog"]
        mentions = bob.notifications(types=["mention"])
        assert [n.status.id for n in mentions] == [reply.id]
        assert wait_for(lambda: bob.status(hello.id).favourites_count == 1)

        # Edit and history, then delete.
        edited = bob.status_update(hello.id, "Hello #Stoa from Bob (edited)")
        assert "edited" in edited.content
        assert len(bob.status_history(hello.id)) == 2
        context = bob.status_context(hello.id)
        assert [s.id for s in context.descendants] == [reply.id]

        # Public, hashtag and paginated timelines.
        posted = [bob.status_post(f"Numbered post {i} #count") for i in range(6)]
        page = alice.timeline_hashtag("count", limit=4)
        assert [s.id for s in page] == [p.id for p in reversed(posted)][:4]
        rest = alice.fetch_next(page)
        assert [s.id for s in rest] == [p.id for p in reversed(posted)][4:]
        public = alice.timeline_public(limit=40)
        assert hello.id in [s.id for s in public]
        local = alice.timeline_local(limit=40)
        assert reply.id in [s.id for s in local]

        # Search: accounts, hashtags, statuses.
        def all_six() -> list[Any]:  # indexing is asynchronous: until the search consumer caught up
            statuses: list[Any] = alice.search_v2("Numbered", result_type="statuses").statuses
            return statuses if len(statuses) == 6 else []

        assert len(wait_for(all_six)) == 6
        assert [a.acct for a in alice.search_v2("bo", result_type="accounts").accounts] == ["bob"]
        assert [t.name for t in alice.search_v2("#cou", result_type="hashtags").hashtags] == ["count"]

        # Notifications over the stream too.
        bob.account_follow(me.id)
        assert wait_for(lambda: any(n.type == "follow" for n in listener.notifications))

        bob.status_delete(posted[0])
        with pytest.raises(MastodonNotFoundError):
            alice.status(posted[0].id)
        assert wait_for(lambda: posted[0].id in [int(d) for d in listener.deletes]
                        or str(posted[0].id) in [str(d) for d in listener.deletes])

        alice.account_unfollow(bob_id)
        assert wait_for(lambda: not any(s.account.id == bob_id for s in alice.timeline_home(limit=40)))
    finally:
        stream.close()

    # Markers round trip.
    alice.markers_set("home", reply.id)
    assert alice.markers_get("home").home.last_read_id == reply.id

    # Revoking the token locks the client out.
    first_party.revoke_access_token(allow_http=True)
    with pytest.raises((MastodonUnauthorizedError, MastodonAPIError)):
        Mastodon(access_token=first_party.access_token, api_base_url=url).account_verify_credentials()


def test_websocket_streaming(live_server: LiveServer) -> None:
    url = live_server.url
    alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
    alice.account_follow(bob.account_verify_credentials().id)
    listener = Collector()
    handle = alice.stream_open_websocket(listener)
    try:
        alice.stream_user(listener, websocket_handle=handle)
        tag_listener, public_listener = Collector(), Collector()
        alice.stream_hashtag("live", tag_listener, websocket_handle=handle)
        alice.stream_public(public_listener, websocket_handle=handle)
        time.sleep(0.5)
        post = bob.status_post("Over the socket #live")
        quiet = bob.status_post("Followers only, not public", visibility="private")
        assert wait_for(lambda: any(s.id == post.id for s in listener.updates))
        assert wait_for(lambda: any(s.id == post.id for s in tag_listener.updates))
        assert wait_for(lambda: any(s.id == post.id for s in public_listener.updates))
        assert wait_for(lambda: any(s.id == quiet.id for s in listener.updates))
        assert not any(s.id == quiet.id for s in public_listener.updates)  # private posts stay off public streams
    finally:
        handle.close()


def test_authorization_code_with_pkce(live_server: LiveServer) -> None:
    url = live_server.url
    sign_up(url, "carol")
    redirect = "http://127.0.0.1:9/callback"
    client_id, _secret = new_app(url, redirect)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"client_id": client_id, "redirect_uri": redirect, "response_type": "code", "scope": "read write",
              "state": "xyz", "code_challenge": challenge, "code_challenge_method": "S256"}
    with httpx.Client(base_url=url) as http:
        page = http.get("/oauth/authorize", params=params)
        assert page.status_code == 200 and "<form" in page.text
        wrong = http.post("/oauth/authorize", data={**params, "username": "carol", "password": "nope nope"})
        assert wrong.status_code == 401
        granted = http.post("/oauth/authorize", data={**params, "username": "carol", "password": PASSWORD})
        assert granted.status_code == 302
        query = parse_qs(urlparse(granted.headers["location"]).query)
        assert query["state"] == ["xyz"]
        code = query["code"][0]
        # A public client proves possession with the verifier instead of a secret; a wrong verifier fails.
        bad = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                              "client_id": client_id, "redirect_uri": redirect,
                                              "code_verifier": "wrong" * 10})
        assert bad.status_code == 400
        granted = http.post("/oauth/authorize", data={**params, "username": "carol", "password": PASSWORD})
        code = parse_qs(urlparse(granted.headers["location"]).query)["code"][0]
        token = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                "client_id": client_id, "redirect_uri": redirect,
                                                "code_verifier": verifier})
        assert token.status_code == 200, token.text
        reused = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                 "client_id": client_id, "redirect_uri": redirect,
                                                 "code_verifier": verifier})
        assert reused.status_code == 400  # a code works once
        # ...and a replay revokes what it gave: someone else has the code (RFC 6749 §4.1.2).
        revoked = http.get("/api/v1/accounts/verify_credentials",
                           headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert revoked.status_code == 401
        granted = http.post("/oauth/authorize", data={**params, "username": "carol", "password": PASSWORD})
        code = parse_qs(urlparse(granted.headers["location"]).query)["code"][0]
        token = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                "client_id": client_id, "redirect_uri": redirect,
                                                "code_verifier": verifier})
        assert token.status_code == 200, token.text
    carol = Mastodon(access_token=token.json()["access_token"], api_base_url=url)
    assert carol.account_verify_credentials().username == "carol"

    # Mastodon.py's own code flow (confidential client, no PKCE), with the out-of-band redirect.
    oob_id, oob_secret = new_app(url)
    client = Mastodon(client_id=oob_id, client_secret=oob_secret, api_base_url=url)
    authorize_url = client.auth_request_url(scopes=["read"], allow_http=True)
    form = dict(parse_qs(urlparse(authorize_url).query))
    with httpx.Client(base_url=url) as http:
        shown = http.post("/oauth/authorize", data={k: v[0] for k, v in form.items()} | {
            "username": "carol", "password": PASSWORD})
    match = re.search(r'<pre id="code">([^<]+)</pre>', shown.text)
    assert match, shown.text
    client.log_in(code=match.group(1), scopes=["read"], allow_http=True)
    assert client.account_verify_credentials().username == "carol"


def test_nothing_acknowledged_is_lost_when_the_server_is_killed(live_server: LiveServer) -> None:
    url = live_server.url
    alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
    alice.account_follow(bob.account_verify_credentials().id)
    acknowledged = []
    stop = threading.Event()

    def post_until_killed() -> None:
        i = 0
        while not stop.is_set():
            try:
                acknowledged.append(bob.status_post(f"burst {i}").id)
            except Exception:
                return
            i += 1

    writer = threading.Thread(target=post_until_killed)
    writer.start()
    time.sleep(1.5)
    live_server.stop(kill=True)  # SIGKILL: no graceful shutdown, consumers mid-batch
    stop.set()
    writer.join()
    assert len(acknowledged) > 5
    live_server.start_again()
    alice = Mastodon(access_token=alice.access_token, api_base_url=url)

    def home_has_all() -> bool:
        seen: set[int] = set()
        page = alice.timeline_home(limit=40)
        while page:
            seen.update(s.id for s in page)
            page = alice.fetch_next(page)
        return set(acknowledged) <= seen

    assert wait_for(home_has_all, timeout=20), "the restarted server did not catch up on fan-out"


def test_separate_worker_process_reaches_live_streams(split_server: LiveServer) -> None:
    """At scale the consumers run in `stoa worker`; fan-out and notifications still reach streams (PostgreSQL)."""
    url = split_server.url
    alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
    alice.account_follow(bob.account_verify_credentials().id)
    listener = Collector()
    stream = alice.stream_user(listener, run_async=True, reconnect_async=False)
    try:
        time.sleep(0.5)
        post = bob.status_post("Delivered by a worker @alice")
        assert wait_for(lambda: any(s.id == post.id for s in listener.updates)), "no update on the stream"
        assert wait_for(lambda: any(n.type == "mention" for n in listener.notifications))
        assert wait_for(lambda: any(s.id == post.id for s in alice.timeline_home()))
    finally:
        stream.close()


def test_a_client_posts_a_photo(live_server: LiveServer, tmp_path) -> None:
    from PIL import Image

    url = live_server.url
    alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
    bob.account_follow(alice.account_verify_credentials().id)
    photo = tmp_path / "holiday.jpg"
    exif = Image.Exif()
    exif[0x8825] = {2: (45.0, 27.0, 0.0)}
    Image.new("RGB", (1600, 1200), (200, 120, 40)).save(photo, "JPEG", exif=exif)
    media = alice.media_post(str(photo), mime_type="image/jpeg", description="Sunset over the lake")
    assert media.type == "image" and media.description == "Sunset over the lake" and media.blurhash
    post = alice.status_post("Holiday #photo", media_ids=[media])
    assert [m.id for m in post.media_attachments] == [media.id]
    seen = wait_for(lambda: next((s for s in bob.timeline_home() if s.id == post.id), None))
    assert seen is not None and seen.media_attachments[0].url.split("?")[0] == media.url.split("?")[0]
    with httpx.Client() as http:
        part = http.get(seen.media_attachments[0].url, headers={"Range": "bytes=0-1023"})
        whole = http.get(seen.media_attachments[0].url)
    assert part.status_code == 206 and part.content == whole.content[:1024]
    assert not Image.open(io.BytesIO(whole.content)).getexif()


def test_a_client_posts_a_video(live_server: LiveServer, tmp_path) -> None:
    """Upload, wait for processing (202 then 206 then 200), attach, play from the middle with a Range request."""
    import av

    from tests.media_samples import make_video

    url = live_server.url
    alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
    bob.account_follow(alice.account_verify_credentials().id)
    clip = make_video(tmp_path / "clip.mov", seconds=2, width=1280, height=720, rotation=-90, container="mov")
    media = alice.media_post(str(clip), mime_type="video/quicktime", description="Waves", synchronous=True)
    assert media.type == "video" and media.url and media.preview_url and media.blurhash
    assert (media.meta.original.width, media.meta.original.height) == (720, 1280)
    post = alice.status_post("Sea #video", media_ids=[media], visibility="unlisted")
    seen = wait_for(lambda: next((s for s in bob.timeline_home() if s.id == post.id), None))
    video_url = seen.media_attachments[0].url
    with httpx.Client() as http:
        whole = http.get(video_url)
        middle = http.get(video_url, headers={"Range": f"bytes={len(whole.content) // 2}-"})
    assert whole.headers["content-type"] == "video/mp4" and whole.headers["accept-ranges"] == "bytes"
    assert middle.status_code == 206 and middle.content == whole.content[len(whole.content) // 2:]
    with av.open(io.BytesIO(whole.content)) as played:
        assert abs(float(played.duration / av.time_base) - 2.0) < 0.2


def _transcoders(parent: int) -> list[int]:
    """Child processes of ``parent`` running the transcoder."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == parent and b"stoa.media.video" in cmdline:
                found.append(int(entry.name))
    return found


def test_a_transcode_killed_midway_is_finished_after_restart(live_server: LiveServer, tmp_path) -> None:
    import os
    import signal

    from tests.media_samples import make_video

    url = live_server.url
    alice = sign_up(url, "alice")
    clip = make_video(tmp_path / "long.mp4", seconds=10, width=1280, height=720)
    media = alice.media_post(str(clip), mime_type="video/mp4")  # 202: queued
    assert media.url is None
    parent = live_server.process.pid
    children = wait_for(lambda: _transcoders(parent), timeout=20)
    assert children, "the transcoder never started"
    live_server.stop(kill=True)  # the machine goes down mid-transcode: server and child die
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    live_server.start_again()
    alice = Mastodon(access_token=alice.access_token, api_base_url=url)
    done = wait_for(lambda: alice.media(media.id).url, timeout=60)
    assert done, "the job was not retried after the restart"
    ready = alice.media(media.id)
    assert abs(ready.meta.original.duration - 10.0) < 0.2 and ready.meta.original.height == 720
    assert "attempt=2" in live_server.log.read_text() or '"attempt": 2' in live_server.log.read_text()
