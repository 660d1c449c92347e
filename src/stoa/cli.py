"""The `stoa` command: run the server, migrate the store, load demo data, manage users and tokens."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stoa.config import Settings, load_settings
from stoa.logs import configure

app = typer.Typer(help="Stoa: an open, self-hostable public square with a Mastodon-compatible API.",
                  no_args_is_help=True, add_completion=False)
user_app = typer.Typer(help="Manage local accounts.", no_args_is_help=True)
token_app = typer.Typer(help="Issue access tokens for scripts and first-party tools.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
jobs_app = typer.Typer(help="Background jobs: inspect the queue, retry dead jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
console = Console(soft_wrap=True)  # the terminal wraps long lines: a path copied from an error stays whole
T = TypeVar("T")


def _settings() -> Settings:
    settings = load_settings()
    configure(settings.log_level, settings.log_json)
    return settings


def _run(factory: Callable[[Any], Coroutine[Any, Any, T]], settings: Settings) -> T:
    """Run one coroutine against a fresh store, disposing of connections afterwards."""
    from stoa.store.regions import Store

    async def main() -> T:
        store = Store(settings)
        try:
            return await factory(store)
        finally:
            await store.dispose()

    return asyncio.run(main())


audit_app = typer.Typer(help="Transparency log: publish the key, verify a region's log as an auditor.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")
REASON_HELP = "Why (required: recorded in the region's public transparency log)"


async def _log_operator_action(store: Any, settings: Settings, action: str, reason: str,
                               subject_account_id: int | None = None, details: dict[str, Any] | None = None,
                               region: str | None = None) -> int:
    """Record an operator's access to private data before it happens, in the log of the region holding it."""
    from stoa.residency.transparency import Record, RegionKey, TransparencyLog, operator_actor

    region = region or store.default_region
    log = TransparencyLog(store.region(region), region, RegionKey.for_region(settings.data_dir, region))
    return await log.record(Record(operator_actor(), action, reason, subject_account_id, details))


def _require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        console.print("[red]An operator action needs a stated reason (--reason): it is logged publicly.[/red]")
        raise typer.Exit(2)
    return reason.strip()


@app.command()
def migrate() -> None:
    """Create the store, or upgrade an existing one to the current schema, keeping all data."""
    from stoa.store.migrate import current_revision, upgrade

    settings = _settings()
    before = current_revision(settings)
    upgrade(settings)
    after = current_revision(settings)
    console.print(f"[green]Store at {settings.resolved_database_url.split('@')[-1]}: "
                  f"schema {before or 'empty'} -> {after}[/green]")


async def _load_demo(store: Any, settings: Settings, size: Any, quiet: bool = False) -> dict[str, int] | None:
    from sqlalchemy import func, select

    from stoa.core.context import Context
    from stoa.demo.community import DEMO, DEMO_PASSWORD, generate
    from stoa.demo.media import add_demo_media
    from stoa.social.accounts import hash_password
    from stoa.store.schema import accounts

    async with store.db.read() as conn:
        if (await conn.execute(select(func.count()).select_from(accounts))).scalar_one():
            if not quiet:
                console.print("The store already has accounts: demo data not loaded.")
            return None
    password_hash = await hash_password(DEMO_PASSWORD)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, 1))

        counts = await generate(store.db, size, region=store.default_region, base_url=settings.base_url,
                                password_hash=password_hash, progress=report)
        if size == DEMO:  # the demo's own size gets photos and videos; a community sized for a benchmark, none
            counts |= await add_demo_media(Context(store, settings), progress=report)
    console.print(f"[green]Demo community loaded:[/green] {counts}. "
                  f"Sign in as [bold]demo[/bold] / [bold]{DEMO_PASSWORD}[/bold].")
    return counts


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(help="How many accounts to generate")] = 300,
    posts: Annotated[int, typer.Option(help="How many posts to generate")] = 3000,
    follows: Annotated[int, typer.Option(help="Average accounts each account follows")] = 20,
) -> None:
    """Load a generated community (power-law follows; posts in English, Italian, French) into an empty store."""
    from stoa.demo.community import CommunitySize
    from stoa.store.migrate import upgrade

    settings = _settings()
    upgrade(settings)
    size = CommunitySize(accounts=accounts, posts=posts, follows_per_account=follows)
    _run(lambda store: _load_demo(store, settings, size), settings)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default STOA_HOST or 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default STOA_PORT or 8000)")] = None,
    with_demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Load demo data into an empty store")] = False,
    workers: Annotated[bool, typer.Option("--workers/--no-workers",
                                          help="Run the event consumers in this process")] = True,
    processes: Annotated[int, typer.Option(min=1, max=64,
                                           help="Server processes (PostgreSQL only: live streams cross "
                                                "processes through PostgreSQL)")] = 1,
) -> None:
    """Migrate the store, optionally load the demo community, and serve Stoa over HTTP."""
    from stoa import server
    from stoa.app import create_app
    from stoa.demo.community import DEMO
    from stoa.store.migrate import upgrade

    overrides: dict[str, Any] = {"run_workers": workers}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = load_settings(**overrides)
    configure(settings.log_level, settings.log_json)
    upgrade(settings)
    if with_demo:
        _run(lambda store: _load_demo(store, settings, DEMO, quiet=True), settings)
    console.print(f"Stoa is serving on [bold]{settings.base_url}[/bold]")
    if processes > 1:
        if settings.is_sqlite:
            console.print("[red]--processes needs PostgreSQL: the embedded store serves from one process.[/red]")
            raise typer.Exit(2)
        os.environ.update({"STOA_HOST": settings.host, "STOA_PORT": str(settings.port),
                           "STOA_RUN_WORKERS": str(settings.run_workers).lower()})
        server.serve("stoa.app:app_from_environment", settings, processes=processes, factory=True)
        return
    server.serve(create_app(settings), settings)


@app.command()
def worker() -> None:
    """Run the event consumers (fan-out, notifications, search), jobs (media, housekeeping) and replication,
    without HTTP."""
    from stoa import worker as background

    settings = _settings()
    console.print("Stoa worker running; Ctrl-C to stop.")
    _run(lambda store: background.run(settings, store), settings)


@jobs_app.command("list")
def jobs_list(
    state: Annotated[str | None, typer.Option(help="queued, running or dead (default: all)")] = None,
    region: Annotated[str | None, typer.Option(help="Region (default: this instance's)")] = None,
    limit: Annotated[int, typer.Option(help="How many to show, newest first")] = 50,
) -> None:
    """List a region's background jobs: what is queued, running, or dead with its last error."""
    from stoa.store import jobs

    if state is not None and state not in (jobs.QUEUED, jobs.RUNNING, jobs.DEAD):
        raise typer.BadParameter("state must be queued, running or dead")
    settings = _settings()
    try:
        rows = _run(lambda store: jobs.listing(store.region(region or store.default_region), state, limit), settings)
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    for row in rows:  # one plain line per job, whatever the terminal's width
        console.print(f"{row.id} {row.kind} {row.state} attempts={row.attempts} key={row.key or '-'} "
                      f"run_after={str(row.run_after)[:19]} error={row.last_error or '-'}",
                      soft_wrap=True, highlight=False, markup=False)
    if not rows:
        console.print("No jobs.")


@jobs_app.command("retry")
def jobs_retry(
    job_id: int,
    region: Annotated[str | None, typer.Option(help="Region (default: this instance's)")] = None,
) -> None:
    """Put a dead job back in the queue, with its attempts counted afresh."""
    from stoa.store import jobs

    settings = _settings()
    try:
        retried = _run(lambda store: jobs.retry_dead(store.region(region or store.default_region), job_id), settings)
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    except jobs.AlreadyQueued as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if not retried:
        console.print(f"[red]No dead job {job_id}.[/red]")
        raise typer.Exit(1)
    console.print(f"Job {job_id} is queued again.")


@user_app.command("create")
def user_create(
    username: str,
    email: Annotated[str, typer.Option(help="E-mail address (used to sign in)")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="Password (prompted if not given)")],
    role: Annotated[str, typer.Option(help="user, moderator or admin")] = "user",
    region: Annotated[str | None, typer.Option(help="Home region (default: the instance's)")] = None,
    reason: Annotated[str | None, typer.Option(help=REASON_HELP)] = None,
) -> None:
    """Create a local account (logged in the transparency log)."""
    reason = _require_reason(reason)
    from stoa.core.errors import DomainError
    from stoa.social.accounts import NewAccount, check_name_free_everywhere, create_account
    from stoa.store.migrate import upgrade

    if role not in ("user", "moderator", "admin"):
        raise typer.BadParameter("role must be user, moderator or admin")
    settings = _settings()
    upgrade(settings)

    async def main(store: Any) -> int:
        home = region or store.default_region
        store.region(home)  # unknown -> refused
        new = NewAccount(username=username, email=email, password=password, role=role, region=home)
        await check_name_free_everywhere(store, new)
        async with store.region(home).write() as conn:  # the account and its private rows: in its home region
            account_id = await create_account(conn, new, default_region=home)
        await _log_operator_action(store, settings, "user.create", reason, account_id, {"role": role}, home)
        return account_id

    try:
        account_id = _run(main, settings)
    except (DomainError, LookupError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Created @{username} (id {account_id}).")


@user_app.command("list")
def user_list(
    limit: Annotated[int, typer.Option(help="How many to show")] = 50,
    reason: Annotated[str | None, typer.Option(help=REASON_HELP)] = None,
) -> None:
    """List local accounts with their e-mail addresses, newest first (logged: it reads private data)."""
    from sqlalchemy import select

    from stoa.store.schema import accounts, users

    reason = _require_reason(reason)
    settings = _settings()

    async def main(store: Any) -> list[Any]:
        found: list[Any] = []
        for name in store.region_names:  # each region's people, logged in that region's log
            await _log_operator_action(store, settings, "user.list", reason, None, {"limit": limit}, name)
            async with store.region(name).read() as conn:
                found += (await conn.execute(
                    select(accounts.c.id, accounts.c.username, users.c.email, users.c.role, accounts.c.region,
                           accounts.c.suspended_at, accounts.c.statuses_count)
                    .join(users, users.c.account_id == accounts.c.id)
                    .order_by(accounts.c.id.desc()).limit(limit))).all()
        return sorted(found, key=lambda r: r.id, reverse=True)[:limit]

    table = Table("id", "username", "email", "role", "region", "posts", "suspended")
    for row in _run(main, settings):
        table.add_row(str(row.id), row.username, row.email, row.role, row.region, str(row.statuses_count),
                      "yes" if row.suspended_at else "")
    console.print(table)


def _set_suspended(username: str, suspended: bool, reason: str | None) -> None:
    from stoa.core.errors import DomainError
    from stoa.social.accounts import home_region_of_login, lookup_any, set_suspended

    reason = _require_reason(reason)
    settings = _settings()

    async def main(store: Any) -> None:
        home = await home_region_of_login(store, username.lstrip("@")) or store.default_region
        async with store.region(home).read() as conn:
            row = await lookup_any(conn, username)
        await _log_operator_action(store, settings, "user.suspend" if suspended else "user.unsuspend", reason,
                                   int(row.id), None, home)
        async with store.region(home).write() as conn:  # replicated to the other regions from here
            await set_suspended(conn, row.id, suspended)

    try:
        _run(main, settings)
    except DomainError:
        console.print(f"[red]No account @{username}[/red]")
        raise typer.Exit(1) from None
    console.print(f"@{username} is {'suspended' if suspended else 'active again'}.")


@user_app.command("suspend")
def user_suspend(username: str, reason: Annotated[str | None, typer.Option(help=REASON_HELP)] = None) -> None:
    """Suspend an account: it can no longer sign in, its tokens stop working, its posts are hidden."""
    _set_suspended(username, True, reason)


@user_app.command("unsuspend")
def user_unsuspend(username: str, reason: Annotated[str | None, typer.Option(help=REASON_HELP)] = None) -> None:
    """Lift a suspension."""
    _set_suspended(username, False, reason)


@token_app.command("create")
def token_create(
    username: str,
    scopes: Annotated[str, typer.Option(help="Space-separated OAuth scopes")] = "read write follow",
    app_name: Annotated[str, typer.Option(help="Name of the app the token is issued to")] = "stoa-cli",
    reason: Annotated[str | None, typer.Option(help=REASON_HELP)] = None,
) -> None:
    """Issue an access token for a user (printed once; only its hash is stored; logged)."""
    from stoa.core.errors import DomainError
    from stoa.social import oauth

    reason = _require_reason(reason)
    settings = _settings()

    async def main(store: Any) -> str:
        from sqlalchemy import select

        from stoa.social.accounts import home_region_of_login
        from stoa.store.schema import accounts

        home = await home_region_of_login(store, username.lstrip("@"))
        if home is None:
            raise oauth.Unauthorized(f"No account @{username}")
        async with store.region(home).read() as conn:
            row = (await conn.execute(select(accounts.c.id).where(
                accounts.c.username_lower == username.lower().lstrip("@")))).one()
        granted = oauth.parse_scopes(scopes)
        await _log_operator_action(store, settings, "token.create", reason, int(row.id), {"scopes": granted}, home)
        async with store.region(home).write() as conn:
            created = await oauth.create_app(conn, app_name, oauth.OOB, " ".join(granted), None)
            return await oauth.issue_token(conn, int(created["id"]), int(row.id), granted, home)

    try:
        token = _run(main, settings)
    except DomainError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    print(token)

residency_app = typer.Typer(help="Data residency: where private rows live.", no_args_is_help=True)
app.add_typer(residency_app, name="residency")


@residency_app.command("check")
def residency_check(limit: Annotated[int, typer.Option(help="Misplaced rows listed per table")] = 20) -> None:
    """Scan every region's store for private rows whose owner is homed in another region; exit 1 if any.

    It reads only table names, row keys, owner ids and regions — no private content.
    """
    from stoa.store import guards
    from stoa.store.migrate import upgrade

    settings = _settings()
    upgrade(settings)  # every region's store at the current schema, guards armed (idempotent)

    async def main(store: Any) -> list[tuple[str, dict[str, int], list[Any]]]:
        results = []
        for name in store.region_names:
            async with store.region(name).read() as conn:
                checked, found = await guards.misplaced(conn, name, limit)
            results.append((name, checked, found))
        return results

    results = _run(main, settings)
    summary = Table("region", "private rows checked", "tables", "misplaced")
    misplaced_total = 0
    for name, checked, found in results:
        summary.add_row(name, f"{sum(checked.values()):,}", str(len(checked)), str(len(found)))
        misplaced_total += len(found)
    for name, _, found in results:  # one plain line per row, whatever the terminal's width
        for item in found:
            console.print(f"misplaced region={name} table={item.table} row={item.key} owner={item.owner} "
                          f"owner_region={item.owner_region or 'unknown'}", soft_wrap=True, highlight=False)
    console.print(summary)
    if misplaced_total:
        console.print(f"[red]{misplaced_total} private row(s) outside their owner's home region.[/red]")
        raise typer.Exit(1)
    console.print("[green]Every private row is in its owner's home region.[/green]")


recsys_app = typer.Typer(help="The For You recommender: training and offline evaluation.", no_args_is_help=True)
app.add_typer(recsys_app, name="recsys")
DEFAULT_DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "movielens-latest-small" / "ratings.csv"


@recsys_app.command("train")
def recsys_train(
    reason: Annotated[str | None, typer.Option(help=REASON_HELP)] = None,
    min_examples: Annotated[int, typer.Option(help="Views needed (with both outcomes) to train")] = 200,
) -> None:
    """Learn For You's weights from each region's own views and likes; log the model, then it serves."""
    from stoa.feeds import ranking_training

    reason = _require_reason(reason)
    settings = _settings()

    async def main(store: Any) -> list[tuple[str, str]]:
        outcomes = []
        for name in store.region_names:
            try:
                outcomes.append((name, await ranking_training.train_and_log(store.region(name), name, settings.data_dir,
                                                                         reason, min_examples)))
            except ranking_training.NotEnoughData as exc:
                outcomes.append((name, f"kept the current model: {exc}"))
        return outcomes

    outcomes = _run(main, settings)
    for region, outcome in outcomes:
        console.print(f"{region}: {outcome}")
    if all(o.startswith("kept") for _, o in outcomes):
        raise typer.Exit(1)


@recsys_app.command("index")
def recsys_index() -> None:
    """(Re)build each region's content-similarity index from its stored text vectors and save it, so
    server processes start from it (after a bulk import, or to compact one that grew by small steps)."""
    from stoa.feeds import similar

    settings = _settings()

    async def main(store: Any) -> list[tuple[str, int, float]]:
        built = []
        for name in store.region_names:
            started = time.perf_counter()
            with console.status(f"{name}: indexing the newest {settings.similar_index_posts} posts"):
                count = await similar.build(store.region(name), settings.similar_index_posts,
                                            similar.index_path(settings.data_dir, name))
            built.append((name, count, time.perf_counter() - started))
        return built

    for region, count, seconds in _run(main, settings):
        console.print(f"{region}: {count} posts indexed in {seconds:.1f} s "
                      f"({similar.index_path(settings.data_dir, region)})")


@recsys_app.command("eval")
def recsys_eval(
    dataset: Annotated[Path, typer.Option(help="MovieLens ratings.csv")] = DEFAULT_DATASET,
    plot: Annotated[Path | None, typer.Option(help="Write an NDCG@10 chart (PNG) here")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here")] = None,
) -> None:
    """Stoa's ranker against most-popular, item-kNN and ALS, under two temporal splits."""
    import json

    from stoa.feeds.evaluate import default_models, evaluate
    from stoa.feeds.evaluate import plot as draw
    from stoa.feeds.interactions import DatasetError, load_movielens

    try:
        data = load_movielens(dataset)
    except DatasetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    results: dict[str, Any] = {}
    for split in ("global", "per-user"):
        with console.status(f"{split} temporal split") as status:
            rows, info = evaluate(default_models(), data, split,
                                  progress=lambda m, s=split: status.update(f"{s}: {m}"))  # type: ignore[misc]
        table = Table("model", "Recall@20", "NDCG@10", "coverage", "novelty", "fit s",
                      title=f"{dataset.parent.name}, {split} temporal split: {info['evaluated_users']} users evaluated")
        for r in rows:
            table.add_row(r.model, f"{r.recall_20:.4f}", f"{r.ndcg_10:.4f}", f"{r.coverage:.4f}", f"{r.novelty:.2f}",
                          f"{r.fit_seconds:.1f}")
        console.print(table)
        best = max((r for r in rows if not r.model.startswith("Stoa")), key=lambda r: r.ndcg_10)
        stoa_row = next(r for r in rows if r.model.startswith("Stoa"))
        console.print(f"Stoa vs best baseline ({best.model}) on NDCG@10: "
                      f"{(stoa_row.ndcg_10 / best.ndcg_10 - 1) * 100:+.1f} %; {stoa_row.notes}")
        results[split] = {"info": info, "rows": [r.__dict__ for r in rows]}
    if plot is not None:
        from stoa.feeds.evaluate import Row

        draw({k: [Row(**r) for r in v["rows"]] for k, v in results.items()}, plot)
    if json_out is not None:
        json_out.write_text(json.dumps(results, indent=2))


@audit_app.command("key")
def audit_key(region: Annotated[str | None, typer.Option(help="Region (default: this instance's)")] = None) -> None:
    """Print the region's transparency-log public key (base64 Ed25519), for auditors to pin."""
    from stoa.residency.transparency import RegionKey, b64

    settings = _settings()
    print(b64(RegionKey.for_region(settings.data_dir, region or settings.region).public_bytes))


@audit_app.command("verify")
def audit_verify(
    url: Annotated[str, typer.Option(help="Base URL of the Stoa server")],
    public_key: Annotated[str, typer.Option(help="The region's public key (base64), obtained out of band")],
    region: Annotated[str, typer.Option(help="Region whose log to verify")] = "local",
    head_file: Annotated[Path | None, typer.Option(help="Saved tree head: checked for consistency, then updated")]
    = None,
    entries: Annotated[bool, typer.Option("--entries/--no-entries",
                                          help="Also fetch and re-hash every entry")] = False,
) -> None:
    """Verify a region's transparency log over HTTP: signature, consistency with a saved head, entries."""
    import base64
    import json

    import httpx

    from stoa.residency import audit, merkle

    try:
        key = base64.b64decode(public_key, validate=True)
    except ValueError:
        raise typer.BadParameter("--public-key must be base64") from None
    saved = json.loads(head_file.read_text()) if head_file is not None and head_file.exists() else None
    with Progress(TextColumn("[bold]entries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=not entries) as progress:
        task = progress.add_task("entries", total=None)
        try:
            result = audit.verify(url, region, key, saved, check_entries=entries,
                                  progress=lambda done, total: progress.update(task, completed=done, total=total))
        except (merkle.ProofError, httpx.HTTPError, ValueError, KeyError) as exc:
            console.print(f"[red]VERIFICATION FAILED[/red]: {exc}")
            raise typer.Exit(1) from None
    if head_file is not None:
        with httpx.Client(base_url=url.rstrip("/"), timeout=30) as http:
            current = http.get(f"/api/v1/stoa/transparency/{region}/head").json()
        if int(current["size"]) == result.size:
            head_file.write_text(json.dumps(current, indent=2))
    console.print(f"[green]OK[/green]: region {region}, {result.size} entries, root {result.root_hash}"
                  + (f", consistent with the saved head of {result.checked_consistency_from}"
                     if result.checked_consistency_from else "")
                  + (f", {result.entries_checked} entries re-hashed" if entries else ""))


if __name__ == "__main__":
    app()
