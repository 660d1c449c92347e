"""Why a post is in a person's For You feed: the sources, the features and their weights, the policy
that applied, and one sentence in plain words (``GET /api/v1/stoa/feeds/for_you/explain/{id}``)."""

from __future__ import annotations

from typing import Any

from stoa.core.context import Context
from stoa.feeds import policy
from stoa.feeds.for_you import ranked
from stoa.social.visibility import get_visible

SOURCE_WORDS = {"in-network": "from people you follow", "trending": "popular in your languages in the last two days",
                "trending-region": "popular with people in your region ({region}) in the last two days",
                "exploration": "new on Stoa", "co-engagement": "liked by people who like what you like",
                "similar": "reads like posts you liked or watched"}


async def explain(ctx: Context, viewer_id: int, status_id: int, personalised: bool = True) -> dict[str, Any]:
    """Why ``status_id`` is (or is not) in the viewer's For You feed: as data and as one sentence."""
    async with ctx.db.read() as conn:
        await get_visible(conn, viewer_id, status_id)  # a post the viewer may not see is a 404, as a missing one
    page, viewer, model = await ranked(ctx, viewer_id, personalised)
    position = next((i for i, c in enumerate(page) if int(c.row.id) == status_id), None)
    if position is None:
        return {"status_id": str(status_id), "in_feed": False, "mode": "personalised" if personalised else "none",
                "policy": ["already seen" if status_id in viewer.seen else
                           "not among the candidates, or removed by policy (muted, blocked, your own, already "
                           "seen, asked to see less of, or carrying a label you hide)"],
                "sentence": "This post is not in your For You feed right now.",
                "model": {"name": model.name, "sha256": model.sha256}}
    candidate = page[position]
    weight = model.slopes(candidate.features)
    contributions = sorted(((name, value, weight[name], weight[name] * value)
                            for name, value in candidate.features.items()), key=lambda x: -abs(x[3]))
    reasons = []
    author = int(candidate.row.account_id)
    if viewer.author_affinity.get(author):
        reasons.append(f"you liked or boosted {viewer.author_affinity[author]} posts by this author")
    if candidate.co_likes:
        reasons.append(f"{candidate.co_likes} {'person' if candidate.co_likes == 1 else 'people'} who liked "
                       "posts you liked also liked this")
    liked_tags = [t for t in candidate.tags if viewer.tag_affinity.get(t)]
    if liked_tags:
        reasons.append("you liked posts about " + ", ".join(f"#{t}" for t in liked_tags[:3]))
    reasons.extend(SOURCE_WORDS[s].format(region=ctx.home) for s in sorted(candidate.sources)
                   if not (s == "co-engagement" and candidate.co_likes))  # said above, with the number
    if candidate.features.get("shown_less"):
        reasons.append("ranked lower because you asked to see less of this author or hashtag")
    if viewer.skipped_authors.get(author):
        reasons.append(f"ranked lower because you skipped {viewer.skipped_authors[author]} posts by this author")
    return {
        "status_id": str(status_id), "in_feed": True, "position": position,
        "mode": "personalised" if personalised else "none",
        "sources": sorted(candidate.sources),
        "features": [{"name": n, "value": round(v, 4), "weight": w, "contribution": round(c, 4)}
                     for n, v, w, c in contributions],
        "score": round(candidate.score, 4),
        "predictions": {head: round(p, 4) for head, p in model.predictions(candidate.features).items()},
        "model": {"name": model.name, "sha256": model.sha256},
        "policy": [f"at most {policy.MAX_PER_AUTHOR} posts per author and {policy.MAX_PER_TOPIC} per hashtag "
                   f"per page of {policy.SPREAD_PAGE}" + (f", no language over {policy.MAX_LANGUAGE_SHARE:.0%} of it"
                                       if len(viewer.languages) > 1 else ""),
                   "muted and blocked accounts removed", "boosts ranked as their original post"]
        + (["moved down the feed to spread authors, hashtags and languages"] if candidate.held_back else [])
        + ([f"{len(viewer.seen)} posts you have already seen removed"] if viewer.seen else [])
        + ([f"posts {', '.join(policy.LABELS[label] for label in sorted(viewer.hidden_labels))} removed"]
           if viewer.hidden_labels else []),
        "sentence": "Because " + "; ".join(reasons) + ".",
    }
