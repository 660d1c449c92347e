/**
 * Search: people, hashtags and posts on this server (/api/v2/search, without asking other servers).
 * The query is in the address (/search?q=), so a search can be shared and the back button returns to it;
 * typing searches after a pause, Enter at once. The result kinds are tabs: arrow keys move between them.
 */
import type { mastodon } from "masto";
import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";

import { masto } from "../api/mastodon";
import { Avatar } from "../components/Avatar";
import { ErrorNotice } from "../components/ErrorNotice";
import { StatusCard } from "../components/StatusCard";
import { useT } from "../i18n";
import { profilePath, tagPath } from "../routes";

const PAUSE_MS = 300;
const KINDS = ["accounts", "hashtags", "statuses"] as const;
type Kind = (typeof KINDS)[number];

function searchPath(q: string, kind: Kind): string {
  const query = new URLSearchParams();
  if (q) query.set("q", q);
  if (kind !== "accounts") query.set("type", kind);
  const text = query.toString();
  return text ? `/search?${text}` : "/search";
}

export function Search() {
  const t = useT();
  const { query, route } = useLocation();
  const q = (query.q ?? "").trim();
  const kind: Kind = KINDS.find((k) => k === query.type) ?? "accounts";
  const [typed, setTyped] = useState(query.q ?? "");
  const [results, setResults] = useState<mastodon.v2.Search | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const asked = useRef(0);
  const shownKind = useRef(kind); // read when the pause ends: a tab chosen meanwhile stays chosen
  shownKind.current = kind;

  async function run(text: string) {
    const mine = ++asked.current; // an answer to an older query is dropped
    setError(null);
    if (!text) {
      setResults(null);
      return;
    }
    setLoading(true);
    try {
      const found = await masto().v2.search.list({ q: text, resolve: false, limit: 20 });
      if (mine === asked.current) setResults(found);
    } catch (failure) {
      if (mine === asked.current) setError(failure);
    } finally {
      if (mine === asked.current) setLoading(false);
    }
  }

  useEffect(() => {
    void run(q);
  }, [q]);

  useEffect(() => {
    if (typed.trim() !== q) setTyped(q); // back and forward change the query from outside
  }, [q]);

  useEffect(() => {
    if (typed.trim() === q) return;
    const timer = setTimeout(() => route(searchPath(typed.trim(), shownKind.current), true), PAUSE_MS);
    return () => clearTimeout(timer);
  }, [typed]);

  return (
    <div class="column">
      <h1 class="page-title">{t("search.title")}</h1>
      <form role="search" class="search-form" onSubmit={(event) => {
        event.preventDefault();
        route(searchPath(typed.trim(), kind), true);
      }}>
        <label for="search-q" class="visually-hidden">{t("search.label")}</label>
        <input id="search-q" class="input" type="search" value={typed} autoComplete="off" enterKeyHint="search"
               placeholder={t("search.placeholder")} onInput={(event) => setTyped(event.currentTarget.value)} />
      </form>
      {!q && <p class="hint">{t("search.hint")}</p>}
      {q && (
        <Results q={q} kind={kind} results={results} loading={loading} error={error}
                 onKind={(next) => route(searchPath(q, next), true)} onRetry={() => void run(q)} />
      )}
    </div>
  );
}

interface ResultsProps {
  q: string;
  kind: Kind;
  results: mastodon.v2.Search | null;
  loading: boolean;
  error: unknown;
  onKind: (kind: Kind) => void;
  onRetry: () => void;
}

function Results({ q, kind, results, loading, error, onKind, onRetry }: ResultsProps) {
  const t = useT();
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const labels: Record<Kind, string> = { accounts: t("search.people"), hashtags: t("search.hashtags"),
                                         statuses: t("search.posts") };

  function onKey(event: KeyboardEvent) {
    const step = { ArrowRight: 1, ArrowLeft: -1, Home: -KINDS.length, End: KINDS.length }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const at = Math.min(KINDS.length - 1, Math.max(0, KINDS.indexOf(kind) + step));
    const next = KINDS[at] ?? kind;
    onKind(next);
    tabs.current[at]?.focus();
  }

  return (
    <>
      <div role="tablist" class="feed-tabs" aria-label={t("search.kinds")} onKeyDown={onKey}>
        {KINDS.map((k, i) => (
          <button key={k} ref={(el) => { tabs.current[i] = el; }} type="button" role="tab" id={`search-tab-${k}`}
                  aria-selected={k === kind} aria-controls="search-panel" tabIndex={k === kind ? 0 : -1}
                  onClick={() => onKind(k)}>
            {labels[k]}{results && <> <span class="tab-count">{results[k].length}</span></>}
          </button>
        ))}
      </div>
      <section id="search-panel" role="tabpanel" aria-labelledby={`search-tab-${kind}`} aria-busy={loading}>
        {loading && <p role="status">{t("search.searching")}</p>}
        {error ? <ErrorNotice error={error} onRetry={onRetry} /> : null}
        {results && !loading && <Found q={q} kind={kind} results={results} />}
      </section>
    </>
  );
}

function Found({ q, kind, results }: { q: string; kind: Kind; results: mastodon.v2.Search }) {
  const t = useT();
  const empty = <p class="notice">{t("search.nothing", { q })}</p>;
  if (kind === "accounts") {
    if (!results.accounts.length) return empty;
    return (
      <ul class="result-list">
        {results.accounts.map((account) => (
          <li key={account.id}>
            <a class="person" href={profilePath(account.acct)}>
              <Avatar account={account} />
              <span class="names">
                <strong class="display-name">{account.displayName || account.username}</strong>
                <span class="acct">@{account.acct}</span>
              </span>
            </a>
          </li>
        ))}
      </ul>
    );
  }
  if (kind === "hashtags") {
    if (!results.hashtags.length) return empty;
    return (
      <ul class="result-list">
        {results.hashtags.map((tag) => (
          <li key={tag.name}><a class="person" href={tagPath(tag.name)}><strong>#{tag.name}</strong></a></li>
        ))}
      </ul>
    );
  }
  if (!results.statuses.length) return empty;
  return <div class="timeline">{results.statuses.map((status) => <StatusCard key={status.id} status={status} />)}</div>;
}
