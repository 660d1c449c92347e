"""OAuth 2: client apps, authorization codes (with PKCE), access tokens, scopes.

Tokens and codes are random strings handed to the client once; the store
keeps only their SHA-256, so a leaked database does not leak sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from stoa.social.errors import BadRequest, Forbidden, Unauthorized, ValidationFailed
from stoa.store.database import Connection
from stoa.store.ids import new_id
from stoa.store.schema import accounts, apps, oauth_codes, oauth_tokens

OOB = "urn:ietf:wg:oauth:2.0:oob"
TOP_SCOPES = {"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
SUB_SCOPES = {
    "read": [
        "accounts", "blocks", "bookmarks", "favourites", "filters", "follows",
        "lists", "mutes", "notifications", "search", "statuses",
    ],
    "write": [
        "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters",
        "follows", "lists", "media", "mutes", "notifications", "reports", "statuses",
    ],
}
FOLLOW_IMPLIES = {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
CODE_LIFETIME = timedelta(minutes=10)


def all_scopes() -> set[str]:
    scopes = set(TOP_SCOPES)
    for top, subs in SUB_SCOPES.items():
        scopes.update(f"{top}:{sub}" for sub in subs)
    return scopes


def parse_scopes(raw: str | None, default: str = "read") -> list[str]:
    scopes = (raw or default).replace("+", " ").split()
    unknown = [s for s in scopes if s not in all_scopes()]
    if unknown:
        raise ValidationFailed(f"Scopes are invalid: {' '.join(unknown)}")
    return list(dict.fromkeys(scopes))


def scope_allows(granted: set[str], required: str) -> bool:
    """Whether a token's scopes cover ``required`` (e.g. "read" covers "read:statuses")."""
    if required in granted:
        return True
    top = required.split(":", 1)[0]
    if top in granted and ":" in required:
        return True
    return "follow" in granted and required in FOLLOW_IMPLIES


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_app(
    conn: Connection, name: str, redirect_uris: str, scopes: str | None, website: str | None
) -> dict[str, Any]:
    if not name or not name.strip():
        raise ValidationFailed("Application name can't be blank")
    if len(name) > 255 or (website and len(website) > 1024):
        raise ValidationFailed("Application name or website is too long")
    uris = [u for u in (redirect_uris or "").split() if u]
    if not uris:
        raise ValidationFailed("Redirect URI can't be blank")
    for uri in uris:
        if uri != OOB and "://" not in uri:
            raise ValidationFailed(f"Redirect URI must be an absolute URI: {uri}")
    granted = parse_scopes(scopes)
    row = {
        "id": new_id(),
        "name": name.strip(),
        "website": website or None,
        "redirect_uris": "\n".join(uris),
        "scopes": " ".join(granted),
        "client_id": secrets.token_urlsafe(32),
        "client_secret": secrets.token_urlsafe(32),
        "created_at": datetime.now(UTC),
    }
    await conn.execute(apps.insert().values(**row))
    return row


async def get_app(conn: Connection, app_id: int | None) -> Any:
    if app_id is None:
        return None
    return (await conn.execute(select(apps).where(apps.c.id == app_id))).first()


async def find_app(conn: Connection, client_id: str | None) -> Any:
    if not client_id:
        raise Unauthorized("Client authentication failed due to unknown client")
    row = (await conn.execute(select(apps).where(apps.c.client_id == client_id))).first()
    if row is None:
        raise Unauthorized("Client authentication failed due to unknown client")
    return row


async def authenticate_client(conn: Connection, client_id: str | None, client_secret: str | None) -> Any:
    app = await find_app(conn, client_id)
    if not client_secret or not hmac.compare_digest(app.client_secret, client_secret):
        raise Unauthorized("Client authentication failed due to unknown client, no client authentication "
                           "included, or unsupported authentication method.")
    return app


def check_redirect_uri(app: Any, redirect_uri: str) -> None:
    if redirect_uri not in app.redirect_uris.split("\n"):
        raise BadRequest("The redirect uri included is not valid.")


def narrow_scopes(app: Any, requested: str | None) -> list[str]:
    """Requested scopes must be a subset of the app's; default is the app's own."""
    app_scopes = set(app.scopes.split())
    wanted = parse_scopes(requested, default=app.scopes)
    if not all(scope_allows(app_scopes, s) for s in wanted):
        raise BadRequest("The requested scope is invalid, unknown, or malformed.")
    return wanted


async def issue_code(
    conn: Connection,
    app: Any,
    account_id: int,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str | None,
    code_challenge_method: str | None,
    region: str,
) -> str:
    if code_challenge is not None:
        method = code_challenge_method or "plain"
        if method not in {"S256", "plain"}:
            raise BadRequest("code_challenge_method must be S256 or plain")
        code_challenge_method = method
    code = f"{region}.{secrets.token_urlsafe(32)}"
    await conn.execute(
        oauth_codes.insert().values(
            code_hash=digest(code),
            app_id=app.id,
            account_id=account_id,
            redirect_uri=redirect_uri,
            scopes=" ".join(scopes),
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            created_at=datetime.now(UTC),
        )
    )
    return code


def _pkce_ok(challenge: str, method: str, verifier: str | None) -> bool:
    if not verifier:
        return False
    if method == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return hmac.compare_digest(computed, challenge)
    return hmac.compare_digest(verifier, challenge)


async def redeem_code(
    conn: Connection, app: Any, code: str | None, redirect_uri: str | None, code_verifier: str | None,
    *, require_pkce: bool = False,
) -> tuple[int, list[str]]:
    """Exchange a code once. Clients without a secret (public clients) must have used PKCE."""
    invalid = BadRequest("The provided authorization grant is invalid, expired, revoked, does not match "
                         "the redirection URI used in the authorization request, or was issued to another client.")
    if not code:
        raise invalid
    row = (await conn.execute(select(oauth_codes).where(oauth_codes.c.code_hash == digest(code)))).first()
    if row is None or row.app_id != app.id or row.used_at is not None:
        raise invalid
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    if datetime.now(UTC) - created > CODE_LIFETIME:
        raise invalid
    if (redirect_uri or OOB) != row.redirect_uri:
        raise invalid
    if require_pkce and row.code_challenge is None:
        raise invalid
    if row.code_challenge is not None and not _pkce_ok(row.code_challenge, row.code_challenge_method,
                                                       code_verifier):
        raise invalid
    await conn.execute(
        oauth_codes.update().where(oauth_codes.c.code_hash == row.code_hash).values(used_at=datetime.now(UTC))
    )
    return int(row.account_id), row.scopes.split()


def region_of(secret: str) -> str | None:
    """Tokens and codes start with their region ("eu.…"), so a request finds its home store at once."""
    prefix, dot, _ = secret.partition(".")
    return prefix if dot else None


async def ensure_app(conn: Connection, app: Any) -> None:
    """Apps register in the default region; a region issuing tokens for one keeps a copy of its row."""
    exists = (await conn.execute(select(apps.c.id).where(apps.c.id == app.id))).first()
    if exists is None:
        await conn.execute(apps.insert().values(**dict(app._mapping)))


async def issue_token(conn: Connection, app_id: int | None, account_id: int | None, scopes: list[str],
                      region: str) -> str:
    token = f"{region}.{secrets.token_urlsafe(32)}"
    await conn.execute(
        oauth_tokens.insert().values(
            id=new_id(),
            token_hash=digest(token),
            app_id=app_id,
            account_id=account_id,
            scopes=" ".join(scopes),
            created_at=datetime.now(UTC),
        )
    )
    return token


@dataclass(frozen=True)
class TokenInfo:
    token_id: int
    app_id: int | None
    account_id: int | None
    scopes: frozenset[str]
    created_at: datetime


async def resolve_token(conn: Connection, token: str) -> TokenInfo:
    row = (
        await conn.execute(
            select(oauth_tokens, accounts.c.suspended_at)
            .outerjoin(accounts, accounts.c.id == oauth_tokens.c.account_id)
            .where(oauth_tokens.c.token_hash == digest(token))
        )
    ).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The access token is invalid")
    if row.suspended_at is not None:
        raise Forbidden("Your login is currently disabled")
    return TokenInfo(row.id, row.app_id, row.account_id, frozenset(row.scopes.split()), row.created_at)


async def revoke_token(conn: Connection, app: Any, token: str) -> None:
    """RFC 7009: revoking an unknown token is not an error; another client's token is refused."""
    row = (await conn.execute(select(oauth_tokens).where(oauth_tokens.c.token_hash == digest(token)))).first()
    if row is None:
        return
    if row.app_id != app.id:
        raise Forbidden("You are not authorized to revoke this token")
    await conn.execute(
        oauth_tokens.update().where(oauth_tokens.c.id == row.id).values(revoked_at=datetime.now(UTC))
    )
