"""The one way the server renders an HTML page: with headers that keep it out of other sites' frames.

A page that takes a password or grants access (the OAuth authorize form) must not be framed by another
site, or that site can overlay it and trick the click (clickjacking). ``X-Frame-Options`` covers older
browsers, ``frame-ancestors`` in the Content-Security-Policy newer ones. Every page goes through
``HTMLPage`` (a test holds the code base to that), so a new page cannot forget them.
"""

from __future__ import annotations

from starlette.responses import HTMLResponse

FRAME_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


class HTMLPage(HTMLResponse):
    """An HTML response that refuses to be framed."""

    def __init__(self, content: str, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(content, status_code=status_code, headers={**FRAME_HEADERS, **(headers or {})})


class AppPage(HTMLPage):
    """The web app's index.html: never cached (it names the current build's assets), under a strict
    Content-Security-Policy (which includes ``frame-ancestors 'none'``), telling other sites nothing."""

    def __init__(self, content: str, content_security_policy: str, status_code: int = 200) -> None:
        super().__init__(content, status_code=status_code, headers={
            "Content-Security-Policy": content_security_policy,
            "Cache-Control": "no-cache",
            "Referrer-Policy": "same-origin",
        })
