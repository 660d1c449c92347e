"""Two regions behind one live `stoa serve`, driven by Mastodon.py; then the operator's residency check."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from mastodon import Mastodon

from tests.e2e.conftest import LiveServer
from tests.e2e.test_mastodon_client import PASSWORD, Collector, new_app, wait_for

pytestmark = pytest.mark.e2e


def sign_up_in(url: str, username: str, region: str) -> Mastodon:
    """Mastodon.py has no `region` field: the sign-up itself goes through plain HTTP."""
    client_id, client_secret = new_app(url)
    app_token = httpx.post(f"{url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
        "scope": "read write follow push"}).json()["access_token"]
    response = httpx.post(f"{url}/api/v1/accounts", headers={"Authorization": f"Bearer {app_token}"}, data={
        "username": username, "email": f"{username}@example.org", "password": PASSWORD, "agreement": "true",
        "region": region})
    assert response.status_code == 200, response.text
    return Mastodon(access_token=response.json()["access_token"], api_base_url=url)


def test_two_regions_with_a_real_client(two_region_server: LiveServer) -> None:
    url = two_region_server.url
    alice, carol, bob = sign_up_in(url, "alice", "us"), sign_up_in(url, "carol", "us"), sign_up_in(url, "bob", "eu")
    me = bob.account_verify_credentials()
    assert me.stoa.region == "eu"
    alice_id = alice.account_verify_credentials().id
    # Accounts reach the other region by replication: Bob finds Alice from the EU.
    assert wait_for(lambda: _found(bob, "alice")) and bob.account_lookup("alice").id == alice_id
    bob.account_follow(alice_id)
    assert wait_for(lambda: _found(alice, "bob"))
    alice.account_follow(me.id)
    alice.account_mute(carol.account_verify_credentials().id)

    listener = Collector()
    stream = bob.stream_user(listener, run_async=True, reconnect_async=False)
    try:
        time.sleep(0.5)
        hello = alice.status_post("Hello from the US @bob #cycling")
        assert wait_for(lambda: any(s.id == hello.id for s in listener.updates), timeout=15), "no live update"
    finally:
        stream.close()
    assert wait_for(lambda: any(s.id == hello.id for s in bob.timeline_home()))
    assert wait_for(lambda: any(n.type == "mention" for n in bob.notifications()))

    bob.status_favourite(hello.id)
    bob.status_bookmark(hello.id)
    seen = httpx.post(f"{url}/api/v1/stoa/feeds/views", headers={"Authorization": f"Bearer {bob.access_token}"},
                      data={"status_id": hello.id, "watched_ms": 8000})
    assert seen.status_code == 200, seen.text
    reply = bob.status_post("@alice Welcome!", in_reply_to_id=hello.id)
    ciao = bob.status_post("Ciao from the EU")
    alice.status_post("@carol between us", visibility="direct")
    assert wait_for(lambda: {n.type for n in alice.notifications()} >= {"follow", "favourite", "mention"})
    assert wait_for(lambda: alice.status(hello.id).favourites_count == 1)
    assert wait_for(lambda: bob.status(hello.id).replies_count == 1)
    assert wait_for(lambda: any(s.id == ciao.id for s in alice.timeline_home()))  # a home mixing both regions
    assert [s.id for s in alice.status_context(hello.id).descendants] == [reply.id]

    # A direct conversation across regions, and a follow request to a locked account in the other region.
    psst = alice.status_post("@bob psst", visibility="direct")
    assert wait_for(lambda: any(n.type == "mention" and n.status.id == psst.id for n in bob.notifications()))
    answer = bob.status_post("@alice got it", visibility="direct", in_reply_to_id=psst.id)
    assert wait_for(lambda: any(n.status and n.status.id == answer.id for n in alice.notifications()))
    bob.account_update_credentials(locked=True)
    carol_id = carol.account_verify_credentials().id
    assert wait_for(lambda: carol.account(me.id).locked)  # the lock reaches the us region by replication
    assert carol.account_follow(me.id).requested is True
    assert wait_for(lambda: [a.id for a in bob.follow_requests()] == [carol_id])
    bob.follow_request_authorize(carol_id)
    assert wait_for(lambda: carol.account_relationships(me.id)[0].following)

    alice.status_delete(hello.id)
    assert wait_for(lambda: all(s.id != hello.id for s in bob.timeline_home()))

    check = subprocess.run([sys.executable, "-m", "stoa.cli", "residency", "check"], env=two_region_server.env,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Every private row is in its owner's home region" in check.stdout


def _found(client: Mastodon, username: str) -> bool:
    try:
        client.account_lookup(username)
    except Exception:
        return False
    return True
