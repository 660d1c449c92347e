"""``/``: the web app when it is built (web/dist); otherwise a plain page on how to connect a client."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Depends, Request

from stoa.api.deps import get_ctx
from stoa.api.pages import HTMLPage
from stoa.core.context import Context
from stoa.web import spa

router = APIRouter()

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
code{{background:#f3f3f3;padding:.1rem .3rem}}</style></head>
<body><h1>{title}</h1><p>{description}</p>
<p>This server speaks the Mastodon client API: point any Mastodon app at <code>{base}</code>.</p>
<p id="web-app-missing">The Stoa web app is not built: run <code>./run.sh</code>, or
<code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, then reload this page.</p>
<ul>
<li>Public timeline: <a href="/api/v1/timelines/public">/api/v1/timelines/public</a></li>
<li>Instance information: <a href="/api/v2/instance">/api/v2/instance</a></li>
<li>Metrics: <a href="/metrics">/metrics</a></li>
</ul></body></html>"""


@router.get("/", response_class=HTMLPage)
async def landing(request: Request, ctx: Context = Depends(get_ctx)) -> HTMLPage:
    dist = Path(getattr(request.app.state, "web_dist", spa.WEB_DIST))
    if spa.is_built(dist):
        return spa.app_page(dist, ctx.settings)
    s = ctx.settings
    return HTMLPage(PAGE.format(title=html.escape(s.instance_title),
                                description=html.escape(s.instance_description), base=html.escape(ctx.base_url)))
