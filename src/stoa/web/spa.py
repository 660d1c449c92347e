"""Serving the web app (web/dist, built by `npm run build`): its pages, its assets, and the 404s around it.

- The app's addresses (``/@alice``, ``/@alice/123``, ``/tags/x``, ``/for-you``...) answer index.html, and the
  app's router draws the page. Any other address a browser asks for answers index.html with status 404, so
  the person sees the app's "page not found" in its own shell; server paths (``/api/``, ``/oauth/``,
  ``/media/``...) and anything that does not ask for HTML keep the API's JSON 404.
- ``/assets/*`` have content hashes in their names: cached for a year. index.html is never cached, so a new
  build is picked up on the next load. Files Vite copies from web/public (the icon) are cached briefly.
- The pages carry a strict Content-Security-Policy: scripts, styles and fonts from this origin only, no
  inline script, no framing; images and media from this origin (and the object store, if media lives there).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from stoa.api.pages import AppPage
from stoa.config import Settings

WEB_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
ASSET_CACHE = "public, max-age=31536000, immutable"
PUBLIC_FILE_CACHE = "public, max-age=3600"

# Keep in step with web/src/app.tsx's routes.
APP_PATHS = re.compile(
    r"/(?:for-you|explore|notifications|messages|search|compose|transparency|sign-in|sign-up|oauth-callback"
    r"|settings(?:/[\w-]+)*|tags/[^/]+|@[^/]+(?:/\d+)?)/?"
)
SERVER_PATHS = ("/api/", "/oauth/", "/media/", "/static/", "/assets/", "/.well-known/", "/nodeinfo", "/users/",
                "/inbox", "/metrics", "/health")


def is_app_path(path: str) -> bool:
    return path == "/" or APP_PATHS.fullmatch(path) is not None


def is_built(dist: Path) -> bool:
    return (dist / "index.html").is_file()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """What the app's pages may load: this origin, its WebSocket, and the object store for media."""
    base = _origin(settings.base_url)
    media = ["'self'", base, "blob:"]
    if settings.media_storage == "s3":  # /media/ redirects to presigned URLs of the bucket
        media.append(_origin(settings.s3_endpoint_url) if settings.s3_endpoint_url else "https://*.amazonaws.com")
    sockets = [base.replace("http", "ws", 1)]
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "font-src 'self'",
        f"img-src {' '.join(media)}",
        f"media-src {' '.join(media)}",
        f"connect-src 'self' {base} {' '.join(sockets)}",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ])


def app_page(dist: Path, settings: Settings, status_code: int = 200) -> AppPage:
    return AppPage((dist / "index.html").read_text(encoding="utf-8"), content_security_policy(settings),
                   status_code=status_code)


def wants_html(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


class HashedFiles(StaticFiles):
    """Files whose names carry a hash of their content: each may be cached for ever."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Cache-Control"] = ASSET_CACHE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class Assets:
    """``/assets``: web/dist/assets of the app's current web_dist (built after the server started, too)."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist
        self.files: dict[Path, HashedFiles] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        dist = Path(getattr(scope["app"].state, "web_dist", self.dist))
        if dist not in self.files:
            self.files[dist] = HashedFiles(directory=dist / "assets", check_dir=False)
        await self.files[dist](scope, receive, send)


class AppFallback:
    """The router's last resort, for paths no route claims: the app's pages, its public files, or the 404."""

    def __init__(self, not_found: ASGIApp, dist: Path) -> None:
        self.not_found = not_found
        self.dist = dist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = self.respond(Request(scope, receive))
            if response is not None:
                await response(scope, receive, send)
                return
        await self.not_found(scope, receive, send)

    def respond(self, request: Request) -> Response | None:
        path = request.url.path
        dist = Path(getattr(request.app.state, "web_dist", self.dist))
        if request.method not in ("GET", "HEAD") or path.startswith(SERVER_PATHS) or not is_built(dist):
            return None
        public_file = dist / path.lstrip("/")
        if "/" not in path.strip("/") and path != "/index.html" and public_file.is_file():
            return FileResponse(public_file, headers={"Cache-Control": PUBLIC_FILE_CACHE,
                                                      "X-Content-Type-Options": "nosniff"})
        settings: Settings = request.app.state.settings
        if is_app_path(path):
            return app_page(dist, settings)
        if wants_html(request):
            return app_page(dist, settings, status_code=404)
        return None
