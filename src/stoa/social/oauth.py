"""OAuth 2: client apps, authorization codes (with PKCE), access tokens, scopes.

Tokens and codes are random strings handed to the client once; the store
keeps only their SHA-256, so a leaked database does not leak sessions.

What this module enforces, whoever calls it: a code is exchanged once (one
conditional write, ``stoa.store.redemption``), and a replayed code revokes the
token its first exchange issued (RFC 6749 §4.1.2); PKCE is S256 only, as the
server's metadata advertises; redirect URIs are ones a browser cannot run or
read locally (``redirect_uri_problem``); admin scopes go only to admins.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from stoa.core.errors import BadRequest, Forbidden, Unauthorized, ValidationFailed
from stoa.store.database import Connection, Database
from stoa.store.ids import new_id
from stoa.store.redemption import redeem_once
from stoa.store.schema import accounts, apps, oauth_codes, oauth_tokens, users

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
ADMIN_ROLES = {"admin"}
PKCE_METHODS = {"S256"}  # what /.well-known/oauth-authorization-server advertises, and all it accepts

# Redirect URIs (RFC 8252): https anywhere; http only back to this machine (a native app's loopback
# listener); the out-of-band page; and private-use schemes (tusky://, com.example.app:/cb), which the
# operating system hands to the app that registered them. Refused: schemes a browser would run, or that
# read local or inline content, instead of handing the code to an app.
LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
DANGEROUS_SCHEMES = {"javascript", "vbscript", "data", "file", "blob", "filesystem", "about", "view-source",
                     "jar", "mhtml", "ws", "wss", "ftp"}
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


class InvalidScope(BadRequest):
    """Scopes the client or the person may not have (OAuth's ``invalid_scope``)."""


class InvalidGrant(BadRequest):
    """A code that is unknown, expired, already used, or not this client's (OAuth's ``invalid_grant``).

    ``revoked_accounts``: whose tokens a replay of the code has just revoked (caches must forget them).
    """

    def __init__(self, revoked_accounts: frozenset[int] = frozenset()) -> None:
        super().__init__("The provided authorization grant is invalid, expired, revoked, does not match the "
                         "redirection URI used in the authorization request, or was issued to another client.")
        self.revoked_accounts = revoked_accounts


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
        problem = redirect_uri_problem(uri)
        if problem:
            raise ValidationFailed(f"Redirect URI {problem}: {uri}")
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


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` may not be a redirect URI, or None when it may."""
    if uri == OOB:
        return None
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        return "must not contain spaces or control characters"
    scheme, colon, _ = uri.partition(":")
    scheme = scheme.lower()
    if not colon or not SCHEME.fullmatch(scheme):
        return "must be an absolute URI"
    parts = urlsplit(uri)
    if parts.fragment or uri.endswith("#"):
        return "must not contain a fragment"
    if scheme in DANGEROUS_SCHEMES:
        return f"must not use the {scheme}: scheme"
    if scheme in ("http", "https"):
        try:
            host = parts.hostname
        except ValueError:
            host = None
        if not host:
            return "must name a host"
        if scheme == "http" and host not in LOOPBACK_HOSTS:
            return "must use https (http is allowed only to 127.0.0.1, [::1] or localhost)"
        return None
    if not uri[len(scheme) + 1:].strip("/"):
        return "must say where in the app to return"
    return None


def check_redirect_uri(app: Any, redirect_uri: str) -> None:
    # Checked again here (not only at registration) so that apps registered before the rule still cannot
    # send a code somewhere a browser would run it.
    if redirect_uri not in app.redirect_uris.split("\n") or redirect_uri_problem(redirect_uri):
        raise BadRequest("The redirect uri included is not valid.")


def check_code_challenge(code_challenge: str | None, code_challenge_method: str | None) -> None:
    """PKCE: S256 only. An absent method means plain (RFC 7636 §4.3), so it is refused too."""
    if code_challenge is not None and code_challenge_method not in PKCE_METHODS:
        raise BadRequest("code_challenge_method must be S256")


async def check_scopes_for(conn: Connection, account_id: int | None, scopes: list[str]) -> None:
    """Admin scopes only for a person whose role is admin; never for a token without a person."""
    wanted = [s for s in scopes if s == "admin" or s.startswith("admin:")]
    if not wanted:
        return
    if account_id is not None:
        role = (await conn.execute(select(users.c.role).where(users.c.account_id == account_id))).scalar()
        if role in ADMIN_ROLES:
            return
    raise InvalidScope(f"Only administrators can be granted {' '.join(wanted)}")


def narrow_scopes(app: Any, requested: str | None) -> list[str]:
    """Requested scopes must be a subset of the app's; default is the app's own."""
    app_scopes = set(app.scopes.split())
    wanted = parse_scopes(requested, default=app.scopes)
    if not all(scope_allows(app_scopes, s) for s in wanted):
        raise InvalidScope("The requested scope is invalid, unknown, or malformed.")
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
    check_code_challenge(code_challenge, code_challenge_method)
    await check_scopes_for(conn, account_id, scopes)
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
    if not verifier or method not in PKCE_METHODS:  # a stored "plain" challenge from older releases fails
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


def _code_fits(row: Any, app: Any, redirect_uri: str | None, code_verifier: str | None, require_pkce: bool) -> bool:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    if row.app_id != app.id or datetime.now(UTC) - created > CODE_LIFETIME:
        return False
    if (redirect_uri or OOB) != row.redirect_uri:
        return False
    if row.code_challenge is None:
        return not require_pkce
    return _pkce_ok(row.code_challenge, row.code_challenge_method, code_verifier)


@dataclass(frozen=True)
class Exchanged:
    access_token: str
    account_id: int
    scopes: list[str]


async def exchange_code(
    db: Database, app: Any, code: str | None, redirect_uri: str | None, code_verifier: str | None,
    *, region: str, require_pkce: bool = False,
) -> Exchanged:
    """Exchange a code for a token, once. Clients without a secret (public clients) must have used PKCE.

    The code is taken by one conditional write, so of any number of concurrent exchanges exactly one
    wins. The first attempt uses the code up even when it then fails (wrong client, verifier or redirect
    URI): a code is not a secret anyone gets to guess against twice. Presenting a used code revokes the
    token its exchange issued: someone else had the code (RFC 6749 §4.1.2).
    """
    if not code:
        raise InvalidGrant()
    code_hash = digest(code)
    issued: Exchanged | None = None
    revoked: frozenset[int] = frozenset()
    async with db.write() as conn:  # committed before any refusal below: the use and the revocation stick
        row = await redeem_once(conn, oauth_codes, oauth_codes.c.code_hash == code_hash)
        if row is None:
            revoked = await _revoke_tokens_of_code(conn, code_hash)
        elif _code_fits(row, app, redirect_uri, code_verifier, require_pkce):
            scopes = row.scopes.split()
            token = await issue_token(conn, app.id, int(row.account_id), scopes, region, code_hash=code_hash)
            issued = Exchanged(token, int(row.account_id), scopes)
    if issued is None:
        raise InvalidGrant(revoked)
    return issued


async def _revoke_tokens_of_code(conn: Connection, code_hash: str) -> frozenset[int]:
    result = await conn.execute(
        oauth_tokens.update()
        .where(oauth_tokens.c.code_hash == code_hash, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(oauth_tokens.c.account_id)
    )
    return frozenset(int(a) for (a,) in result.all() if a is not None)


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
                      region: str, *, code_hash: str | None = None) -> str:
    """A new access token. Every grant ends here, so the rule on admin scopes is checked here."""
    await check_scopes_for(conn, account_id, scopes)
    token = f"{region}.{secrets.token_urlsafe(32)}"
    await conn.execute(
        oauth_tokens.insert().values(
            id=new_id(),
            token_hash=digest(token),
            app_id=app_id,
            account_id=account_id,
            scopes=" ".join(scopes),
            code_hash=code_hash,
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
