"""JSON responses rendered with orjson, and Mastodon's error shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error(status: int, message: str, description: str | None = None,
          headers: dict[str, str] | None = None) -> JSON:
    body: dict[str, Any] = {"error": message}
    if description:
        body["error_description"] = description
    return JSON(body, status_code=status, headers=headers)
