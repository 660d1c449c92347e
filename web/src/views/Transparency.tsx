/**
 * Transparency: the region's log of who touched people's private data, in plain words. This page checks
 * in the browser (WebCrypto) that the log's latest state is signed with the region's key and that each
 * entry about the person is in that signed state, and says how anyone can check it without this page.
 */
import { useEffect, useState } from "preact/hooks";

import { ErrorNotice } from "../components/ErrorNotice";
import { entryIncluded, fromBase64, signatureHolds, toHex } from "../components/logProof";
import { useMe } from "../components/me";
import { checkGrowth, type Growth } from "../components/seenHeads";
import { homeRegion, inclusionProof, type LogEntry, myEntries, serverRegions, treeHead,
         type TreeHead } from "../api/transparency";
import { fullDate, t as translate, useT } from "../i18n";

/** A check's outcome: null while it runs. */
type Checked = boolean | null;

interface SignedHead {
  head: TreeHead;
  signed: Checked;
  /** Compared with the head this browser saw last; null when the signature did not hold. */
  growth: Growth | null;
}

async function signedHead(region: string): Promise<SignedHead> {
  const head = await treeHead(region);
  const signed = await signatureHolds(head);
  return { head, signed, growth: signed ? await checkGrowth(head) : null };
}

export function Transparency() {
  const t = useT();
  const me = useMe();
  const [region, setRegion] = useState<string | null>(null);
  const [head, setHead] = useState<SignedHead | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function load() {
    setError(null);
    try {
      const home = homeRegion(me) ?? (await serverRegions()).defaultRegion;
      setRegion(home);
      setHead(await signedHead(home));
    } catch (failure) {
      setError(failure);
    }
  }

  useEffect(() => {
    if (me !== undefined) void load();
  }, [me?.id ?? me]);

  return (
    <div class="column narrow">
      <h1 class="page-title">{t("transparency.title")}</h1>
      <p>{t("transparency.lead")}</p>
      <section aria-labelledby="log-head" class="card">
        <h2 id="log-head" class="section-title">{t("transparency.headTitle", { region: region ?? "…" })}</h2>
        {error ? <ErrorNotice error={error} onRetry={load} /> : null}
        {!head && !error && <p role="status">{t("timeline.loading")}</p>}
        {head && <HeadFacts {...head} />}
      </section>
      {me && head && <MyEntries homeHead={head.head} />}
      <HowToCheck />
    </div>
  );
}

function Verdict({ checked, yes, no }: { checked: Checked; yes: string; no: string }) {
  if (checked === null) return <p role="status">{translate("transparency.checking")}</p>;
  return <p class={checked ? "verdict verdict-ok" : "verdict verdict-bad"}>
    <span aria-hidden="true">{checked ? "✓ " : "✗ "}</span>{checked ? yes : no}
  </p>;
}

const signedOn = (head: TreeHead) => fullDate(new Date(head.timestamp).toISOString());

function GrowthVerdict({ growth }: { growth: Growth }) {
  const t = useT();
  if (growth.kind === "first") return <p class="hint">{t("transparency.firstVisit")}</p>;
  const since = { count: growth.since.size, date: signedOn(growth.since) };
  return <Verdict checked={growth.kind === "grew"} yes={t("transparency.grew", since)}
                  no={t("transparency.notGrew", since)} />;
}

function HeadFacts({ head, signed, growth }: SignedHead) {
  const t = useT();
  return (
    <>
      <p>{t("transparency.size", { count: head.size, date: signedOn(head) })}</p>
      <Verdict checked={signed} yes={t("transparency.signed")} no={t("transparency.notSigned")} />
      {growth && <GrowthVerdict growth={growth} />}
      <dl class="facts">
        <dt>{t("transparency.root")}</dt>
        <dd><code>{toHex(fromBase64(head.root_hash))}</code></dd>
        <dt>{t("transparency.key")}</dt>
        <dd><code>{head.public_key}</code></dd>
      </dl>
    </>
  );
}

interface EntryCheck {
  entry: LogEntry;
  included: Checked;
}

async function checkEntries(entries: LogEntry[], homeHead: TreeHead, onChecked: (checks: EntryCheck[]) => void) {
  const heads = new Map<string, Promise<TreeHead>>([[homeHead.region, Promise.resolve(homeHead)]]);
  const checks: EntryCheck[] = entries.map((entry) => ({ entry, included: null }));
  onChecked([...checks]);
  for (const [i, check] of checks.entries()) {
    const region = check.entry.entry.region;
    if (!heads.has(region)) heads.set(region, treeHead(region));
    try {
      const head = await heads.get(region)!;
      const signed = await signatureHolds(head);
      const proof = await inclusionProof(region, check.entry.position, head.size);
      checks[i] = { ...check, included: signed && await entryIncluded(check.entry, proof, head) };
    } catch {
      checks[i] = { ...check, included: false };
    }
    onChecked([...checks]);
  }
}

function MyEntries({ homeHead }: { homeHead: TreeHead }) {
  const t = useT();
  const [checks, setChecks] = useState<EntryCheck[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function load() {
    setError(null);
    try {
      await checkEntries(await myEntries(), homeHead, setChecks);
    } catch (failure) {
      setError(failure);
    }
  }

  useEffect(() => {
    void load();
  }, [homeHead.size]);

  return (
    <section aria-labelledby="log-mine" class="card">
      <h2 id="log-mine" class="section-title">{t("transparency.mineTitle")}</h2>
      {error ? <ErrorNotice error={error} onRetry={load} /> : null}
      {!checks && !error && <p role="status">{t("timeline.loading")}</p>}
      {checks && checks.length === 0 && <p>{t("transparency.mineEmpty")}</p>}
      {checks && checks.length > 0 && (
        <ol class="log-entries">
          {checks.map(({ entry, included }) => <EntryItem key={`${entry.entry.region}:${entry.position}`}
                                                          entry={entry} included={included} />)}
        </ol>
      )}
    </section>
  );
}

/** What an entry's action means for the person it is about. */
function actionWords(action: string): string {
  switch (action) {
    case "account.export": return translate("transparency.actions.export");
    case "account.erase": return translate("transparency.actions.erase");
    case "user.create": return translate("transparency.actions.create");
    case "user.suspend": return translate("transparency.actions.suspend");
    case "user.unsuspend": return translate("transparency.actions.unsuspend");
    case "token.create": return translate("transparency.actions.token");
    default: return action;
  }
}

function actorWords(actor: string): string {
  if (actor.startsWith("account:")) return translate("transparency.byYou");
  if (actor.startsWith("operator:")) return translate("transparency.byOperator", { who: actor.slice(9) });
  return translate("transparency.bySystem", { who: actor });
}

function EntryItem({ entry, included }: EntryCheck) {
  const t = useT();
  const { action, actor, reason, time, region } = entry.entry;
  return (
    <li class="log-entry">
      <p><strong>{actionWords(action)}</strong></p>
      <p class="meta">{t("transparency.entryFacts", { who: actorWords(actor), date: fullDate(time), region,
                                                       position: entry.position })}</p>
      <p>{t("transparency.reason", { reason })}</p>
      <Verdict checked={included} yes={t("transparency.included")} no={t("transparency.notIncluded")} />
    </li>
  );
}

function HowToCheck() {
  const t = useT();
  const command = `stoa audit verify --url ${location.origin} --public-key KEY --head-file head.json --entries`;
  return (
    <section aria-labelledby="log-how" class="card">
      <h2 id="log-how" class="section-title">{t("transparency.howTitle")}</h2>
      <p>{t("transparency.checkedHere")}</p>
      <p>{t("transparency.notCheckedHere")}</p>
      <ol class="steps">
        <li>{t("transparency.step1")}</li>
        <li>{t("transparency.step2")}<pre><code>{command}</code></pre></li>
        <li>{t("transparency.step3")}</li>
      </ol>
      <p><a href="https://datatracker.ietf.org/doc/html/rfc9162" rel="noopener noreferrer">{t("transparency.rfc")}</a></p>
    </section>
  );
}
