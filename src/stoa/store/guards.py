"""Residency guards: the database itself refuses a private row of an account homed elsewhere.

Each region's database knows which region it is (``store_identity``, written by ``stoa migrate``).
For every private table — and every public table whose rows are private under a condition, such as
direct posts or unattached uploads — a trigger checks each inserted or updated row: the owner's
account (``accounts.region``) must be homed in this region, or the write fails. A copy held for
a recipient in another region (a direct post, a follow request: ``held_for_id``) belongs to the
recipient's region instead. Because the check
lives in the database, it holds whatever code path asks: the API, a consumer, a CLI tool, a
migration, a hand-written SQL statement. An account unknown to this region counts as homed
elsewhere.

``misplaced`` finds rows that are nevertheless in the wrong place (written before the guards, or
with triggers disabled): it is what ``stoa residency check`` runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection as SyncConnection

from stoa.store.database import Connection
from stoa.store.schema import metadata, store_identity


@dataclass(frozen=True)
class Rule:
    table: str
    owner: str
    when: str | None  # SQL over "{row}", e.g. "{row}.visibility = 'direct'"; None: every row
    holder: str | None = None  # the column naming the recipient a copy is held for, if the table has one
    party: str | None = None  # SQL over "{row}": the holder really is a party to the row (a recipient)

    def whose(self, row: str, checked: bool = False) -> str:
        """The account whose home region the row belongs in: the holder of a held copy, else the owner.

        ``checked``: a holder who is not a party to the row (not among a direct post's recipients, not
        the account a follow request asks) does not count — the row is then its owner's, and found
        misplaced. The triggers cannot check that for posts (their recipients are written after them).
        """
        if not self.holder:
            return f"{row}.{self.owner}"
        if checked and self.party:
            return (f"CASE WHEN {row}.{self.holder} IS NOT NULL AND ({self.party.format(row=row)}) "
                    f"THEN {row}.{self.holder} ELSE {row}.{self.owner} END")
        return f"COALESCE({row}.{self.holder}, {row}.{self.owner})"

    def condition(self, row: str) -> str:
        """Which rows are a person's private data (rows without an owner, like app tokens, are not)."""
        owned = f"{row}.{self.owner} IS NOT NULL"
        return f"{owned} AND {self.when.format(row=row)}" if self.when else owned


class WrongRegion(RuntimeError):
    """This database belongs to another region than the one it is configured as."""


def rules() -> list[Rule]:
    """The private rows of every table, from the schema's classification."""
    found = []
    for name, table in sorted(metadata.tables.items()):
        holder, party = table.info.get("holder"), table.info.get("holder_party")
        if table.info.get("privacy") == "private":
            found.append(Rule(name, table.info["owner"], None, holder, party))
        elif "private_when" in table.info:
            found.append(Rule(name, table.info["owner"], table.info["private_when"], holder, party))
    return found


def claim_region(conn: SyncConnection, region: str) -> None:
    """Record which region this database is; refuse a database that already belongs to another."""
    current = conn.execute(text("SELECT region FROM store_identity")).scalars().all()
    if current and current != [region]:
        raise WrongRegion(f"this database belongs to region {current[0]!r}, not {region!r}: check the "
                          "region's database URL")
    if not current:
        conn.execute(store_identity.insert().values(region=region, created_at=datetime.now(UTC)))


def install(conn: SyncConnection) -> None:
    """Create or bring up to date the guard triggers of every rule. Idempotent; run after every migration.

    A guard already in place as this version would write it is left alone: dropping and recreating a
    trigger takes an exclusive lock on its table, so re-arming every guard whenever a server starts
    would stall (or deadlock with) the requests other servers are answering from those tables.
    """
    sqlite = conn.dialect.name == "sqlite"
    current = _sqlite_triggers(conn) if sqlite else _postgres_guards(conn)
    for rule in rules():
        statements = _sqlite_guard(rule) if sqlite else _postgres_guard(rule)
        if _in_place(rule, statements, current, sqlite):
            continue
        for statement in statements:
            conn.execute(text(statement))


def _fingerprint(statements: list[str]) -> str:
    return "stoa residency guard " + hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]


def _in_place(rule: Rule, statements: list[str], current: dict[str, str | None], sqlite: bool) -> bool:
    """Whether the database already holds exactly this rule's guard (SQLite keeps each trigger's text;
    on PostgreSQL the guard function carries a fingerprint of everything installed with it)."""
    if sqlite:
        wanted = {statement.split()[2]: statement for statement in statements if statement.startswith("CREATE")}
        return all(current.get(name) == sql for name, sql in wanted.items())
    triggers = [f"{rule.table}.residency_guard_{event}" for event in ("insert", "update")]
    installed_with = [statement for statement in statements if not statement.startswith("COMMENT")]
    return (current.get(f"function:stoa_residency_{rule.table}") == _fingerprint(installed_with)
            and all(name in current for name in triggers) and f"{rule.table}.residency_guard" not in current)


def _sqlite_triggers(conn: SyncConnection) -> dict[str, str | None]:
    rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    return {str(name): sql for name, sql in rows}


def _postgres_guards(conn: SyncConnection) -> dict[str, str | None]:
    """The guard functions (with their fingerprints) and triggers in this schema, by name."""
    found: dict[str, str | None] = {}
    for name, comment in conn.execute(text(
            "SELECT p.proname, obj_description(p.oid, 'pg_proc') FROM pg_proc p "
            "WHERE p.pronamespace = current_schema()::regnamespace AND p.proname LIKE 'stoa_residency_%'")):
        found[f"function:{name}"] = comment
    for table, trigger in conn.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace "
            "AND t.tgname LIKE 'residency_guard%'")):
        found[f"{table}.{trigger}"] = None
    return found


def _sqlite_guard(rule: Rule) -> list[str]:
    out = []
    for event in ("INSERT", "UPDATE"):
        name = f"residency_{rule.table}_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {name}")
        out.append(
            f"CREATE TRIGGER {name} BEFORE {event} ON {rule.table} FOR EACH ROW "
            f"WHEN ({rule.condition('NEW')}) AND (SELECT region FROM store_identity) IS NOT NULL "
            f"AND (SELECT region FROM accounts WHERE id = {rule.whose('NEW')}) "
            f"IS NOT (SELECT region FROM store_identity) "
            f"BEGIN SELECT RAISE(ABORT, 'residency: a private {rule.table} row of an account homed in another "
            f"region is refused here'); END")
    return out


def _postgres_guard(rule: Rule) -> list[str]:
    """Statement-level triggers over the transition table: one set-based check per statement, so a
    fan-out writing ten thousand home-timeline rows pays for one join, not ten thousand lookups."""
    function = f"stoa_residency_{rule.table}"
    out = [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE here text; bad record;
BEGIN
  SELECT region INTO here FROM store_identity LIMIT 1;
  IF here IS NULL THEN RETURN NULL; END IF;
  SELECT {rule.whose('n')} AS owner, a.region AS home INTO bad FROM stoa_new_rows n
    LEFT JOIN accounts a ON a.id = {rule.whose('n')}
    WHERE {rule.condition('n')} AND a.region IS DISTINCT FROM here LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'residency: a private {rule.table} row of account % (home region %) is refused in region %',
      bad.owner, coalesce(bad.home, 'unknown'), here USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$""",
        f"DROP TRIGGER IF EXISTS residency_guard ON {rule.table}",  # the row-level version of earlier builds
    ]
    for event in ("INSERT", "UPDATE"):
        name = f"residency_guard_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {rule.table}")
        out.append(f"CREATE TRIGGER {name} AFTER {event} ON {rule.table} REFERENCING NEW TABLE AS stoa_new_rows "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return [*out, f"COMMENT ON FUNCTION {function}() IS '{_fingerprint(out)}'"]


def installed(conn: SyncConnection) -> set[str]:
    """Tables that carry a guard trigger now."""
    if conn.dialect.name == "sqlite":
        names = conn.execute(text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                                  "AND name LIKE 'residency_%'")).scalars()
    else:
        names = conn.execute(text("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                  "WHERE t.tgname LIKE 'residency_guard%'")).scalars()
    return set(names)


@dataclass(frozen=True)
class Misplaced:
    table: str
    key: str
    owner: int
    owner_region: str | None


async def misplaced(conn: Connection, region: str, limit: int = 100) -> tuple[dict[str, int], list[Misplaced]]:
    """Rows checked per table, and private rows in this region's store whose owner is homed elsewhere."""
    checked: dict[str, int] = {}
    found: list[Misplaced] = []
    for rule in rules():
        table = metadata.tables[rule.table]
        key = ", ".join(f"t.{c.name}" for c in table.primary_key.columns)
        where = rule.condition("t")
        checked[rule.table] = int((await conn.execute(text(
            f"SELECT count(*) FROM {rule.table} t WHERE {where}"))).scalar_one())
        rows = await conn.execute(text(
            f"SELECT {key}, {rule.whose('t', checked=True)} AS owner, a.region AS owner_region "
            f"FROM {rule.table} t LEFT JOIN accounts a ON a.id = {rule.whose('t', checked=True)} "
            f"WHERE ({where}) AND (a.region IS NULL OR a.region <> :here) LIMIT :limit"),
            {"here": region, "limit": limit})
        for row in rows:
            values: Any = row._mapping
            found.append(Misplaced(rule.table, "/".join(str(values[c.name]) for c in table.primary_key.columns),
                                   int(values["owner"]), values["owner_region"]))
    return checked, found
