"""Domain tests: actions called directly on a store, without HTTP."""

from __future__ import annotations

from stoa.core.context import Context
from stoa.social import accounts, sessions


async def new_person(ctx: Context, username: str, password: str = "correct horse battery") -> int:
    """Sign someone up through the domain action; returns their account id."""
    issued = await sessions.sign_up(ctx, accounts.NewAccount(username, f"{username}@example.org", password),
                                    None, frozenset({"read", "write", "follow"}), agreed=True)
    info = await sessions.resolve_token(ctx, issued.access_token)
    assert info.account_id is not None
    return info.account_id
