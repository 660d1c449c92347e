"""The web app as `stoa serve` serves it: its pages and their headers, its assets, the 404s around it,
and CORS as Mastodon serves it (the API for any origin, never the pages)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers import AppClient

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-3f9a.js"></script></head>' \
        '<body><div id="app"></div></body></html>'


@pytest.fixture
def built(client: AppClient, tmp_path: Path) -> Path:
    """A built web app (web/dist) for this server."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-3f9a.js").write_text("console.log('stoa')")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (dist / "manifest.webmanifest").write_text('{"name": "Stoa"}')
    client.app.state.web_dist = dist
    return dist


@pytest.fixture
def not_built(client: AppClient, tmp_path: Path) -> None:
    client.app.state.web_dist = tmp_path / "no-dist"


def assert_app_page(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'"  # no inline script, nothing from elsewhere
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "http://127.0.0.1:8000" in csp["connect-src"] and "ws://127.0.0.1:8000" in csp["connect-src"]


@pytest.mark.parametrize("path", ["/", "/@alice", "/@alice/1234567", "/tags/cycling", "/explore", "/for-you",
                                  "/notifications", "/settings", "/settings/profile", "/oauth-callback?code=x",
                                  "/sign-in", "/sign-up", "/compose", "/messages", "/transparency"])
async def test_app_paths_answer_the_app(client: AppClient, built: Path, path: str) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200
    assert_app_page(response)


async def test_an_unknown_page_is_a_404_a_browser_sees_in_the_app(client: AppClient, built: Path) -> None:
    for path in ("/nowhere", "/@alice/not-a-number", "/tags", "/explore/deep/path"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 404, path
        assert_app_page(page)
        data = await client.get(path, headers={"Accept": "application/json"})
        assert (data.status_code, data.json()) == (404, {"error": "Record not found"})


async def test_server_paths_keep_their_own_404s_and_405s(client: AppClient, built: Path) -> None:
    for path in ("/api/v1/nothing", "/api/v2/nothing/here", "/oauth/nothing", "/.well-known/x", "/static/x"):
        response = await client.get(path, headers=HTML)
        assert (response.status_code, response.json()) == (404, {"error": "Record not found"}), path
    media = await client.get("/media/nothing", headers=HTML)
    assert (media.status_code, media.json()) == (404, {"error": "No such file"})
    posted = await client.post("/@alice", headers=HTML)
    assert (posted.status_code, posted.json()) == (404, {"error": "Record not found"})
    wrong_method = await client.delete("/api/v1/apps")
    assert wrong_method.status_code == 405


async def test_assets_are_cached_for_ever_and_the_index_never(client: AppClient, built: Path) -> None:
    asset = await client.get("/assets/index-3f9a.js")
    assert asset.status_code == 200 and asset.text == "console.log('stoa')"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/assets/index-0000.js")).status_code == 404
    icon = await client.get("/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.headers["cache-control"] == "public, max-age=3600"
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert (await client.get("/index.html", headers=HTML)).status_code == 404


async def test_an_app_built_after_start_is_served_at_once(client: AppClient, not_built: None,
                                                          tmp_path: Path) -> None:
    before = await client.get("/", headers=HTML)
    assert before.status_code == 200 and 'id="web-app-missing"' in before.text
    dist = client.app.state.web_dist
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    after = await client.get("/", headers=HTML)
    assert_app_page(after)


async def test_without_a_build_the_landing_page_says_so(client: AppClient, not_built: None) -> None:
    landing = await client.get("/", headers=HTML)
    assert landing.status_code == 200
    assert "The Stoa web app is not built" in landing.text
    assert landing.headers["x-frame-options"] == "DENY"
    profile = await client.get("/@alice", headers=HTML)
    assert (profile.status_code, profile.json()) == (404, {"error": "Record not found"})


# CORS: what a web client on another origin may do.

ORIGIN = {"Origin": "https://elk.example"}


async def test_the_api_is_open_to_any_origin_with_paging_headers_exposed(client: AppClient) -> None:
    response = await client.get("/api/v1/timelines/public", headers=ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"link", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= exposed
    assert "access-control-allow-credentials" not in response.headers


async def test_preflights_allow_a_bearer_token_and_any_method(client: AppClient) -> None:
    for path, method in (("/api/v1/statuses", "POST"), ("/api/v1/statuses/1", "DELETE"), ("/oauth/token", "POST"),
                         ("/oauth/revoke", "POST")):
        preflight = await client.options(path, headers={**ORIGIN, "Access-Control-Request-Method": method,
                                                        "Access-Control-Request-Headers": "authorization"})
        assert preflight.status_code == 200, path
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert method in preflight.headers["access-control-allow-methods"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


async def test_errors_reach_other_origins_too(client: AppClient) -> None:
    refused = await client.get("/api/v1/timelines/home", headers=ORIGIN)
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"


async def test_pages_get_no_cors_headers(client: AppClient, built: Path) -> None:
    for path in ("/", "/@alice", "/oauth/authorize?client_id=x"):
        response = await client.get(path, headers={**ORIGIN, **HTML})
        assert "access-control-allow-origin" not in response.headers, path
