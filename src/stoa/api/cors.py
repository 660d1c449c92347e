"""Cross-origin requests, as Mastodon allows them: any web client on any origin may use the API.

The API authenticates with bearer tokens, never cookies, so a page on another origin gains nothing it
could not do with its own token: every origin is allowed, without credentials, for the API, the token
and revocation endpoints and the discovery documents. The HTML pages (the web app, the OAuth sign-in
form) get no CORS headers. ``Link`` and the rate-limit headers are exposed, so clients can page and pace.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CORS_PATHS = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")
EXPOSED = ["Link", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Request-Id"]


class ApiCorsMiddleware:
    """Starlette's CORSMiddleware, for the paths above only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH",
                                                                          "DELETE", "OPTIONS"],
                                   allow_headers=["*"], expose_headers=EXPOSED, allow_credentials=False,
                                   max_age=86400)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(CORS_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
