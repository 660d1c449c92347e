"""Link headers for paginated lists, as Mastodon clients follow them."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from starlette.requests import Request

from stoa.api.responses import JSON


def paginated(request: Request, items: Sequence[object], ids: Sequence[int], base_url: str) -> JSON:
    """Respond with ``items`` and next/prev links built from the first and last ``ids``."""
    response = JSON(items)
    if ids:
        query = [(k, v) for k, v in request.query_params.multi_items()
                 if k not in ("max_id", "min_id", "since_id")]
        url = base_url + request.url.path
        next_q = urlencode([*query, ("max_id", str(ids[-1]))])
        prev_q = urlencode([*query, ("min_id", str(ids[0]))])
        response.headers["Link"] = f'<{url}?{next_q}>; rel="next", <{url}?{prev_q}>; rel="prev"'
    return response
