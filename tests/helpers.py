"""Helpers for API tests: sign up users through the API and run the event consumers."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from stoa.store.replication import replicators_for
from stoa.worker import consumers


@dataclass
class User:
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register_app(client: httpx.AsyncClient, scopes: str = "read write follow push") -> dict[str, str]:
    response = await client.post("/api/v1/apps", data={"client_name": "tests", "scopes": scopes,
                                                       "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def app_token(client: httpx.AsyncClient, app: dict[str, str], scope: str = "read write follow push") -> str:
    response = await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": scope})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def sign_up(client: httpx.AsyncClient, username: str, password: str = "correct horse battery",
                  locale: str = "en") -> User:
    app = await register_app(client)
    token = await app_token(client, app)
    response = await client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, data={
        "username": username, "email": f"{username}@example.org", "password": password, "agreement": "true",
        "locale": locale})
    assert response.status_code == 200, response.text
    user_token = response.json()["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials",
                          headers={"Authorization": f"Bearer {user_token}"})
    assert me.status_code == 200, me.text
    return User(me.json()["id"], username, user_token)


async def drain(client: httpx.AsyncClient) -> int:
    """Run every event consumer and replicator until caught up (what `stoa serve` does in the background)."""
    app = client.app  # type: ignore[attr-defined]
    store = app.state.store
    regions = {name: store.region(name) for name in store.region_names}
    total = 0
    while True:
        done = 0
        for replicator in replicators_for(regions):
            done += await replicator.drain()
        for name, db in regions.items():
            for consumer in consumers(db, app.state.hub, name):
                done += await consumer.drain(db)
        total += done
        if not done:
            return total
