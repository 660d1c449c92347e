"""The web app end to end: Chromium (Debian's, through Playwright) against `stoa serve --demo`.

A person signs up, posts and sees the post on Home, signs out and in again through the OAuth page,
moves through For You and asks why a post is there, follows someone from their profile and replies on
a post page, then signs out — on a phone-sized screen and on a desktop one. A failing step leaves a
screenshot in test-artifacts/web/ (STOA_E2E_ARTIFACTS to put them elsewhere).
"""

from __future__ import annotations

import os
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from stoa.web.spa import WEB_DIST, is_built
from tests.e2e.conftest import LiveServer, serving

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("STOA_E2E_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts" / "web"))
SCREENS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "a long web password"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    assert is_built(WEB_DIST), "the web app is not built: scripts/bootstrap.sh builds it (npm ci, npm run build)"
    # The built-in weights rank: no retraining swaps a model in mid-test. The demo loads first (its media too).
    with serving("sqlite", tmp_path_factory.mktemp("web"), "--demo", ready_timeout=300,
                 STOA_RECSYS_RETRAIN_HOURS="0") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu",
                                                    "--disable-background-networking"])
        yield chromium
        chromium.close()


@contextmanager
def screenshot_on_failure(page: Page, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise


def api(server: LiveServer, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def eventually(check: Callable[[], bool], timeout: float = 15) -> None:
    """Wait for work the server does in the background (fan-out, view counts) by asking again."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server never caught up"
        time.sleep(0.2)


@pytest.mark.parametrize("screen", SCREENS)
def test_a_person_uses_the_web_app(demo: LiveServer, browser: Browser, screen: str) -> None:
    context = browser.new_context(viewport=SCREENS[screen], locale="en-GB")  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(f"{message.text} {message.location.get('url')}")
            if message.type == "error" else None)
    username = f"web_{screen}"
    with screenshot_on_failure(page, f"{screen}-{time.strftime('%H%M%S')}"):
        # Sign up: the welcome page, the form, then Home.
        page.goto(demo.url + "/")
        expect(page.get_by_role("heading", name=re.compile("Welcome to"))).to_be_visible()
        page.get_by_role("link", name="Create account").click()
        page.get_by_label("Username").fill(username)
        page.get_by_label("E-mail").fill(f"{username}@example.org")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label(re.compile("I agree")).check()
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("navigation", name="Feeds")).to_be_visible()
        token = page.evaluate("localStorage.getItem('stoa.token')")
        assert api(demo, token, "/api/v1/accounts/verify_credentials").json()["username"] == username

        # Post, with the count going down as the text grows, and see it on Home (after a reload too).
        text = f"Hello from the web app on a {screen} <b>not bold</b> #stoa"
        box = page.get_by_label("Post text")
        box.fill(text)
        expect(page.get_by_text(f"{500 - len(text)} characters left")).to_be_visible()
        page.get_by_role("button", name="Post", exact=True).click()
        timeline = page.get_by_role("region", name="Following")
        expect(timeline.get_by_role("article").first).to_contain_text(text)
        expect(box).to_have_value("")
        eventually(lambda: any(s["content"].startswith("<p>Hello from the web app")
                               for s in api(demo, token, "/api/v1/timelines/home").json()))
        page.reload()
        expect(page.get_by_role("region", name="Following").get_by_role("article").first).to_contain_text(text)

        # Sign out (the token stops working), then in again on the server's own sign-in page.
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name=re.compile("Welcome to"))).to_be_visible()
        assert api(demo, token, "/api/v1/accounts/verify_credentials").status_code == 401
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
        page.get_by_role("button", name="Continue to sign in").click()
        expect(page).to_have_url(re.compile(r"/oauth/authorize\?"))
        page.get_by_label("Username or e-mail").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Authorize").click()
        expect(page.get_by_role("navigation", name="Feeds")).to_be_visible()
        assert page.url == demo.url + "/"
        token = page.evaluate("localStorage.getItem('stoa.token')")

        # For You: one post a screen that says why it is there; j moves on, and the view is reported.
        page.get_by_role("link", name="For You").first.click()
        first = page.locator('.for-you-item[data-index="0"]')
        expect(first).to_be_in_viewport()
        first.get_by_role("button", name="Why am I seeing this?").click()
        dialog = page.get_by_role("dialog", name="Why you are seeing this post")
        expect(dialog.locator(".sentence")).to_have_text(re.compile(r"\w{3}"))
        expect(dialog.get_by_role("table")).to_contain_text("What contributed")
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()
        page.keyboard.press("j")
        expect(page.locator('.for-you-item[data-index="1"]')).to_be_in_viewport(ratio=0.9)
        eventually(lambda: api(demo, token, "/api/v1/stoa/feeds/for_you/signals").json()["seen_posts"] >= 1)
        page.keyboard.press("k")
        expect(first).to_be_in_viewport(ratio=0.9)

        # Follow someone from their profile.
        page.goto(demo.url + "/@demo")
        page.get_by_role("button", name="Follow", exact=True).click()
        expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
        demo_id = api(demo, token, "/api/v1/accounts/lookup?acct=demo").json()["id"]
        assert api(demo, token, f"/api/v1/accounts/relationships?id[]={demo_id}").json()[0]["following"]

        # Reply on a post page.
        posts = page.get_by_role("region", name="Posts")
        posts.get_by_role("article").first.locator(".status-time").click()
        expect(page).to_have_url(re.compile(r"/@demo/\d+$"))
        reply = f"A reply from the {screen}"
        page.get_by_role("form", name="Reply to this post").get_by_label("Post text").fill(f"@demo {reply}")
        page.get_by_role("button", name="Reply", exact=True).click()
        replies = page.get_by_role("region", name="Replies")
        expect(replies.get_by_role("article").last).to_contain_text(reply)
        status_id = page.url.rsplit("/", 1)[1]
        context_after = api(demo, token, f"/api/v1/statuses/{status_id}/context").json()
        assert any(reply in s["content"] for s in context_after["descendants"])

        # Sign out.
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("link", name="Create account")).to_be_visible()
        assert api(demo, token, "/api/v1/accounts/verify_credentials").status_code == 401
        assert page.evaluate("localStorage.getItem('stoa.token')") is None
    assert problems == []
    context.close()


AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


def signed_up(server: LiveServer, username: str) -> str:
    """A person's token, made through the API (the browser flow is tested above)."""
    app = httpx.post(f"{server.url}/api/v1/apps", data={
        "client_name": "axe", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"},
        timeout=30).json()
    app_token = httpx.post(f"{server.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "read write follow"}, timeout=30).json()["access_token"]
    answer = httpx.post(f"{server.url}/api/v1/accounts", headers={"Authorization": f"Bearer {app_token}"}, data={
        "username": username, "email": f"{username}@example.org", "password": PASSWORD, "agreement": "true",
        "locale": "en"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.mark.parametrize("screen", SCREENS)
def test_no_serious_accessibility_problem_on_any_view(demo: LiveServer, browser: Browser, screen: str) -> None:
    # axe-core is injected as a script, which the pages' CSP rightly refuses: this context bypasses the CSP
    # (the test above runs under it).
    assert AXE.is_file(), "axe-core is installed with the web app's packages (npm ci in web/)"
    context = browser.new_context(viewport=SCREENS[screen], bypass_csp=True)  # type: ignore[arg-type]
    page = context.new_page()
    token = signed_up(demo, f"axe_{screen}")
    status = api(demo, token, "/api/v1/accounts/lookup?acct=demo").json()
    post = api(demo, token, f"/api/v1/accounts/{status['id']}/statuses?limit=1").json()[0]
    views = {"welcome": "/", "sign-up": "/sign-up", "sign-in": "/sign-in", "not-found": "/nowhere"}
    signed_in = {"home": "/", "for-you": "/for-you", "profile": "/@demo", "post": f"/@demo/{post['id']}",
                 "explore": "/explore", "settings": "/settings", "notifications": "/notifications",
                 "search": "/search?q=demo", "transparency": "/transparency"}
    problems: dict[str, list[str]] = {}
    with screenshot_on_failure(page, f"axe-{screen}-{time.strftime('%H%M%S')}"):
        for name, path in [*views.items(), ("sign in", ""), *signed_in.items()]:
            if name == "sign in":
                page.evaluate("token => localStorage.setItem('stoa.token', token)", token)
                continue
            page.goto(demo.url + path)
            expect(page.locator("main h1").first).to_be_attached()
            expect(page.locator('[aria-busy="true"]')).to_have_count(0)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
            serious = [f"{v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['html'][:120]})"
                       for v in result["violations"] if v["impact"] in ("serious", "critical")]
            if serious:
                problems[name] = serious
        assert problems == {}, "\n".join(f"{view}: {problem}" for view, found in problems.items() for problem in found)
    context.close()


PLAYED = """video => {
    // Seconds of video really played, counted from the element's own clock (loops included).
    window.played = 0;
    let last = video.currentTime;
    video.addEventListener("timeupdate", () => {
        const step = video.currentTime - last;
        if (step > 0 && step < 1) window.played += step;
        last = video.currentTime;
    });
}"""


def shown(page: Page, item: Locator) -> None:
    """Bring a For You item on screen the way a swipe does (the feed snaps to it)."""
    item.scroll_into_view_if_needed()
    expect(item).to_be_in_viewport(ratio=0.9)


def test_for_you_plays_media_and_its_actions_reach_the_server(demo: LiveServer, browser: Browser) -> None:
    token = signed_up(demo, "media_fan")
    signals = "/api/v1/stoa/feeds/for_you/signals"
    assert api(demo, token, signals).json()["author_affinity"] == []
    page, problems = as_person(browser, demo, token)
    with screenshot_on_failure(page, f"media-{time.strftime('%H%M%S')}"):
        page.goto(demo.url + "/for-you")

        # A video plays muted as soon as it is on screen; a tap turns the sound on, m off and on again.
        item = page.locator(".for-you-item:has(video)").first
        shown(page, item)
        video = item.locator("video").element_handle()
        page.evaluate(PLAYED, video)
        page.wait_for_function("video => !video.paused && video.muted && window.played > 0.3", arg=video)
        item.locator("video").click()
        page.wait_for_function("video => !video.paused && !video.muted", arg=video)
        sound = item.get_by_role("button", name="Sound")
        expect(sound).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("m")
        page.wait_for_function("video => video.muted", arg=video)
        page.keyboard.press("m")
        page.wait_for_function("video => !video.muted", arg=video)
        expect(item.get_by_role("progressbar", name="Video progress")).not_to_have_attribute("aria-valuenow", "0")
        expect(item.locator(".stage-caption")).to_have_text(re.compile(r"\w{4}"))

        # Moving on reports the seconds it played: over 3 s counts as interest in its author.
        page.wait_for_function("() => window.played > 3.2")
        author = api(demo, token, f"/api/v1/statuses/{item.get_attribute('data-id')}").json()["account"]["id"]
        page.keyboard.press("j")
        eventually(lambda: author in [a["account_id"] for a in api(demo, token, signals).json()["author_affinity"]])

        # A photo fills its item, described; like, bookmark and "show less" reach the server.
        item = page.locator(".for-you-item:has(.stage-photo)").first
        shown(page, item)
        photo = item.locator(".stage-photo img").first
        expect(photo).to_have_attribute("alt", re.compile(r"\w{4}"))
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
        item.get_by_role("button", name="ALT: show the description").first.click()
        expect(item.locator(".alt-text").first).to_have_text(photo.get_attribute("alt") or "")
        status_id = item.get_attribute("data-id")
        like = item.get_by_role("button", name=re.compile(r"^Like, "))
        like.click()
        expect(like).to_have_attribute("aria-pressed", "true")
        bookmark = item.get_by_role("button", name="Bookmark")
        bookmark.click()
        expect(bookmark).to_have_attribute("aria-pressed", "true")
        item.get_by_role("button", name="Show less like this").click()
        item.get_by_role("button", name="This post").click()
        expect(item.get_by_role("status")).to_contain_text("You will see less of this")
        status = api(demo, token, f"/api/v1/statuses/{status_id}").json()
        assert status["favourited"] and status["bookmarked"]
        assert status_id in api(demo, token, signals).json()["show_less"]["statuses"]
    assert problems == []
    page.context.close()


def test_with_reduced_motion_a_video_waits_for_its_play_button(demo: LiveServer, browser: Browser) -> None:
    page, _ = as_person(browser, demo, signed_up(demo, "still_please"), "desktop", reduced_motion="reduce")
    with screenshot_on_failure(page, f"reduced-{time.strftime('%H%M%S')}"):
        page.goto(demo.url + "/for-you")
        item = page.locator(".for-you-item:has(video)").first
        shown(page, item)
        video = item.locator("video").element_handle()
        play = item.locator(".stage-play")
        expect(play).to_be_visible()
        assert page.evaluate("video => video.paused && video.currentTime === 0", video)
        play.click()
        page.wait_for_function("video => !video.paused && video.currentTime > 0", arg=video)
        expect(play).to_be_hidden()
    page.context.close()


@pytest.mark.parametrize(("locale", "welcome", "sign_in"), [("it-IT", "Benvenuto su", "Accedi"),
                                                             ("fr-FR", "Bienvenue sur", "Se connecter")])
def test_the_app_speaks_the_browsers_language(demo: LiveServer, browser: Browser, locale: str, welcome: str,
                                             sign_in: str) -> None:
    context = browser.new_context(viewport=SCREENS["phone"], locale=locale)  # type: ignore[arg-type]
    page = context.new_page()
    with screenshot_on_failure(page, f"{locale}-{time.strftime('%H%M%S')}"):
        page.goto(demo.url + "/")
        expect(page.get_by_role("heading", name=re.compile(welcome))).to_be_visible()
        expect(page.get_by_role("navigation").get_by_role("link", name=sign_in)).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == locale[:2]
    context.close()


def as_person(browser: Browser, server: LiveServer, token: str, screen: str = "phone",
              **options: Any) -> tuple[Page, list[str]]:
    """A page signed in with `token` (made through the API), collecting page and console errors."""
    context = browser.new_context(viewport=SCREENS[screen], locale="en-GB", **options)  # type: ignore[arg-type]
    # Signed in once, on the first page: signing out (or erasing) stays signed out on the pages after.
    context.add_init_script(f"""if (!localStorage.getItem('e2e.signedIn')) {{
      localStorage.setItem('e2e.signedIn', '1');
      localStorage.setItem('stoa.token', {token!r});
    }}""")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(f"{message.text} {message.location.get('url')}")
            if message.type == "error" else None)
    return page, problems


def post_as(server: LiveServer, token: str, path: str, **data: str) -> httpx.Response:
    answer = httpx.post(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, data=data, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def test_notifications_arrive_live_and_search_finds_people_and_hashtags(demo: LiveServer, browser: Browser) -> None:
    me, fan, other = (signed_up(demo, name) for name in ("notified", "fan_one", "fan_two"))
    mine = post_as(demo, me, "/api/v1/statuses", status="A post to like #viewsearch").json()
    page, problems = as_person(browser, demo, me)
    with screenshot_on_failure(page, f"notifications-{time.strftime('%H%M%S')}"):
        # Someone follows while the page is open: it appears without a reload.
        page.goto(demo.url + "/notifications")
        expect(page.get_by_text("New notifications appear here as they arrive.")).to_be_visible()
        expect(page.get_by_text("Nothing yet.", exact=False)).to_be_visible()
        my_id = api(demo, me, "/api/v1/accounts/verify_credentials").json()["id"]
        post_as(demo, fan, f"/api/v1/accounts/{my_id}/follow")
        listed = page.get_by_role("list", name="Notifications")
        expect(listed.get_by_role("listitem").first).to_contain_text("fan_one followed you")

        # Elsewhere in the app, a like raises the unread badge; opening the list clears it and saves the marker.
        page.get_by_role("link", name="Explore").click()
        post_as(demo, fan, f"/api/v1/statuses/{mine['id']}/favourite")
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts")  # the phone's label
        expect(link).to_have_accessible_description("1 unread")
        expect(link.locator(".nav-badge")).to_have_text("1")
        link.click()
        first = listed.get_by_role("listitem").first
        expect(first).to_contain_text("fan_one liked your post")
        expect(first.get_by_text("New", exact=True)).to_be_visible()
        expect(link.locator(".nav-badge")).to_have_count(0)
        newest = api(demo, me, "/api/v1/notifications?limit=1").json()[0]["id"]
        eventually(lambda: api(demo, me, "/api/v1/markers?timeline[]=notifications").json()
                   .get("notifications", {}).get("last_read_id") == newest)

        # A second like of the same post joins the same line, live.
        post_as(demo, other, f"/api/v1/statuses/{mine['id']}/favourite")
        expect(first).to_contain_text("fan_two and fan_one liked your post")
        expect(listed.get_by_role("listitem")).to_have_count(2)

        # Dismiss the follow; Mentions has none.
        page.get_by_role("button", name="Dismiss: fan_one followed you").click()
        expect(listed.get_by_role("listitem")).to_have_count(1)
        assert all(n["type"] != "follow" for n in api(demo, me, "/api/v1/notifications").json())
        page.get_by_role("link", name="Mentions").click()
        expect(page.get_by_text("No one has mentioned you yet.")).to_be_visible()

        # Search: a person as they are typed, then the hashtag tab by keyboard.
        page.goto(demo.url + "/search")
        page.get_by_role("searchbox", name="Search people, hashtags and posts").fill("fan_o")
        expect(page).to_have_url(re.compile(r"/search\?q=fan_o$"))
        panel = page.get_by_role("tabpanel")
        expect(panel.get_by_role("link", name=re.compile("fan_one"))).to_have_attribute("href", "/@fan_one")
        page.get_by_role("searchbox").fill("#viewsea")
        expect(page.get_by_role("tab", name="Hashtags 1")).to_be_visible()
        people = page.get_by_role("tab", name=re.compile("People"))
        expect(people).to_have_attribute("aria-selected", "true")
        people.focus()
        page.keyboard.press("ArrowRight")
        expect(page.get_by_role("tab", name=re.compile("Hashtags"))).to_be_focused()
        expect(panel.get_by_role("link", name="#viewsearch")).to_have_attribute("href", "/tags/viewsearch")
        page.get_by_role("searchbox").fill("zzzz-nothing-like-this")
        expect(panel).to_contain_text("Nothing found for “zzzz-nothing-like-this”")
    assert problems == [], problems
    page.context.close()


def test_settings_unmute_unblock_export_transparency_and_erase(demo: LiveServer, browser: Browser) -> None:
    me = signed_up(demo, "data_rights")
    targets = {name: api(demo, signed_up(demo, name), "/api/v1/accounts/verify_credentials").json()["id"]
               for name in ("muted_one", "blocked_one")}
    post_as(demo, me, f"/api/v1/accounts/{targets['muted_one']}/mute")
    post_as(demo, me, f"/api/v1/accounts/{targets['blocked_one']}/block")
    page, problems = as_person(browser, demo, me)
    with screenshot_on_failure(page, f"settings-{time.strftime('%H%M%S')}"):
        page.goto(demo.url + "/settings")
        expect(page.get_by_text('stored in the region “local”', exact=False)).to_be_visible()
        page.get_by_role("button", name="Unmute @muted_one").click()
        expect(page.get_by_text("You have not muted anyone.")).to_be_visible()
        page.get_by_role("button", name="Unblock @blocked_one").click()
        expect(page.get_by_text("You have not blocked anyone.")).to_be_visible()
        assert api(demo, me, "/api/v1/mutes").json() == [] and api(demo, me, "/api/v1/blocks").json() == []

        # Download my data: the password asked again, and the browser saves a zip.
        page.get_by_label("Your password").first.fill(PASSWORD)
        with page.expect_download() as download:
            page.get_by_role("button", name="Download my data").click()
        saved = download.value.path()
        assert download.value.suggested_filename.endswith(".zip")
        with zipfile.ZipFile(saved) as archive:
            assert "manifest.json" in archive.namelist()
        expect(page.get_by_text("Your download has started")).to_be_visible()

        # Transparency: the signed head, checked here, and the export among the entries about me.
        page.goto(demo.url + "/transparency")
        expect(page.get_by_text(re.compile(r"The log holds \d+ entr"))).to_be_visible()
        expect(page.get_by_text("this state of the log carries a valid signature", exact=False)).to_be_visible()
        expect(page.get_by_text("This browser has not seen this log before", exact=False)).to_be_visible()
        entry = page.locator(".log-entry").filter(has_text="Your data was downloaded")
        expect(entry).to_contain_text("this entry is part of the signed log")

        # Erase, with the password and a clear confirmation: signed out, and the account is gone.
        page.goto(demo.url + "/settings")
        erase = page.get_by_role("button", name="Erase my account")
        page.locator("#erase-password").fill(PASSWORD)
        expect(erase).to_be_disabled()
        page.get_by_label(re.compile("I understand")).check()
        erase.click()
        expect(page.get_by_text("Your account has been erased and you are signed out.")).to_be_visible()
        assert page.evaluate("localStorage.getItem('stoa.token')") is None
        assert api(demo, me, "/api/v1/accounts/verify_credentials").status_code == 401
        assert httpx.get(f"{demo.url}/api/v1/accounts/lookup?acct=data_rights", timeout=30).status_code == 404

        # The erasure was logged: back on Transparency, this browser proves the log only grew since its last visit.
        page.goto(demo.url + "/transparency")
        expect(page.locator(".verdict").filter(has_text="the log only grew")).to_be_visible()
    assert problems == [], problems
    page.context.close()
