"""A person's say over their For You feed: "show less like this" (a post, an author, a hashtag),
labels to hide, a reset of the history it ranks by, and the list of everything it reads about them.
All of it private data, in the person's home region, exported and erased with the account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select

from stoa.core.context import Context
from stoa.core.errors import NotFound, ValidationFailed
from stoa.feeds import policy, signals
from stoa.feeds.events import HistoryReset, LabelChosen, ShowLessChosen
from stoa.social.visibility import get_visible
from stoa.store.events import emit
from stoa.store.ids import new_id
from stoa.store.schema import accounts, feed_preferences


async def show_less(ctx: Context, viewer_id: int, *, status_id: int | None = None, account_id: int | None = None,
                    tag: str | None = None) -> None:
    """"Show less like this" for one post, one author or one hashtag (exactly one of them)."""
    chosen = [(k, v) for k, v in (("less_status", status_id), ("less_author", account_id),
                                  ("less_tag", tag.lower().lstrip("#") if tag else None)) if v is not None]
    if len(chosen) != 1:
        raise ValidationFailed("Give exactly one of status_id, account_id or tag")
    kind, value = chosen[0]
    async with ctx.db.write() as conn:
        if kind == "less_status":
            await get_visible(conn, viewer_id, int(value))  # hidden or missing: the same 404
            found = 1
        elif kind == "less_author":
            found = (await conn.execute(select(func.count()).select_from(accounts).where(
                accounts.c.id == value))).scalar_one()
        else:
            found = 1 if str(value) else 0
        if not found:
            raise NotFound()
        chosen_now = await conn.execute(ctx.db.insert_ignore(feed_preferences).values(
            id=new_id(), account_id=viewer_id, kind=kind, value=str(value), created_at=datetime.now(UTC)))
        if chosen_now.rowcount:
            await emit(conn, ShowLessChosen(account_id=viewer_id, status_id=status_id, target_account_id=account_id,
                                            tag=str(value) if kind == "less_tag" else None))


async def set_label(ctx: Context, viewer_id: int, label: str, hide: bool) -> None:
    """Hide posts carrying ``label`` from the viewer's For You feed, or show them again."""
    if label not in policy.LABELS:
        raise ValidationFailed(f"label must be one of {', '.join(policy.LABELS)}")
    async with ctx.db.write() as conn:
        if hide:
            changed = await conn.execute(ctx.db.insert_ignore(feed_preferences).values(
                id=new_id(), account_id=viewer_id, kind="hide_label", value=label, created_at=datetime.now(UTC)))
        else:
            changed = await conn.execute(delete(feed_preferences).where(feed_preferences.c.account_id == viewer_id,
                                                                        feed_preferences.c.kind == "hide_label",
                                                                        feed_preferences.c.value == label))
        if changed.rowcount:
            await emit(conn, LabelChosen(account_id=viewer_id, label=label, hidden=hide))


async def reset_history(ctx: Context, viewer_id: int) -> None:
    """Forget every "show less" and ignore engagements before now when ranking (label choices are settings,
    not history: they stay)."""
    now = datetime.now(UTC)
    async with ctx.db.write() as conn:
        await conn.execute(delete(feed_preferences).where(feed_preferences.c.account_id == viewer_id,
                                                          feed_preferences.c.kind != "hide_label"))
        await conn.execute(feed_preferences.insert().values(
            id=new_id(), account_id=viewer_id, kind="reset", value=now.isoformat(), created_at=now))
        await emit(conn, HistoryReset(account_id=viewer_id, reset_at=now.isoformat()))


async def stored_signals(ctx: Context, viewer_id: int) -> dict[str, Any]:
    """Everything the For You feed reads about the viewer, as it would use it now."""
    async with ctx.db.read() as conn:
        viewer = await signals.read(conn, viewer_id, True)
    return {
        "languages": sorted(viewer.languages),
        "following_count": len(viewer.following),
        "author_affinity": [{"account_id": str(a), "engagements": n} for a, n in viewer.author_affinity.most_common()],
        "tag_affinity": [{"tag": t, "engagements": n} for t, n in viewer.tag_affinity.most_common()],
        "show_less": {"statuses": sorted(str(s) for s in viewer.less_statuses),
                      "accounts": sorted(str(a) for a in viewer.less_authors), "tags": sorted(viewer.less_tags)},
        "history_reset_at": viewer.reset_at.isoformat() if viewer.reset_at else None,
        "labels": [{"label": label, "meaning": meaning, "action": "hide" if label in viewer.hidden_labels else "show"}
                   for label, meaning in policy.LABELS.items()],
        "seen_posts": len(viewer.seen),
        "skipped_authors": [{"account_id": str(a), "skips": n} for a, n in viewer.skipped_authors.most_common()],
        "affinity_window_days": signals.AFFINITY_WINDOW.days,
        "hidden_accounts": len(viewer.hidden),
    }
