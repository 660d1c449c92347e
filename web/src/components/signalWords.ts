/**
 * What For You stores about a person (GET /api/v1/stoa/feeds/for_you/signals), said in sentences:
 * one line for each thing it reads, with names instead of ids, so anyone can tell what it knows.
 */
import type { Signals } from "../api/controls";
import { currentLanguage, fullDate, languageName, t } from "../i18n";

export interface SignalLine {
  /** Which signal the line is about (a stable key for lists and tests). */
  id: string;
  text: string;
}

/** A few names, then "and N more". */
const SHOWN = 5;

function list(items: string[]): string {
  const format = new Intl.ListFormat(currentLanguage(), { type: "conjunction" });
  if (items.length <= SHOWN) return format.format(items);
  return format.format([...items.slice(0, SHOWN), t("signals.more", { count: items.length - SHOWN })]);
}

/** `name(id)` says who an account id is ("@alice"); unknown ids can be left as they are. */
export function signalLines(signals: Signals, name: (accountId: string) => string): SignalLine[] {
  const lines: SignalLine[] = [];
  const add = (id: string, text: string) => lines.push({ id, text });
  add("languages", signals.languages.length
    ? t("signals.languages", { languages: list(signals.languages.map(languageName)) })
    : t("signals.noLanguages"));
  add("following", t("signals.following", { count: signals.following_count }));
  const days = signals.affinity_window_days;
  add("authors", signals.author_affinity.length
    ? t("signals.authors", { days, people: list(signals.author_affinity.map((a) =>
      t("signals.times", { what: name(a.account_id), count: a.engagements }))) })
    : t("signals.noAuthors", { days }));
  add("tags", signals.tag_affinity.length
    ? t("signals.tags", { days, tags: list(signals.tag_affinity.map((tag) =>
      t("signals.times", { what: `#${tag.tag}`, count: tag.engagements }))) })
    : t("signals.noTags", { days }));
  add("seen", t("signals.seen", { count: signals.seen_posts }));
  if (signals.skipped_authors.length) {
    add("skipped", t("signals.skipped", { people: list(signals.skipped_authors.map((a) =>
      t("signals.times", { what: name(a.account_id), count: a.skips }))) }));
  }
  const less = signals.show_less;
  const lessCount = less.statuses.length + less.accounts.length + less.tags.length;
  add("less", lessCount ? t("signals.less", { what: list([
    ...(less.statuses.length ? [t("signals.lessPosts", { count: less.statuses.length })] : []),
    ...less.accounts.map(name),
    ...less.tags.map((tag) => `#${tag}`),
  ]) }) : t("signals.noLess"));
  const hidden = signals.labels.filter((l) => l.action === "hide").map((l) => l.meaning);
  add("labels", hidden.length ? t("signals.labels", { labels: list(hidden) }) : t("signals.noLabels"));
  if (signals.hidden_accounts) add("hidden", t("signals.hidden", { count: signals.hidden_accounts }));
  add("reset", signals.history_reset_at ? t("signals.resetAt", { date: fullDate(signals.history_reset_at) })
    : t("signals.neverReset"));
  return lines;
}

/** The account ids the lines name, so their names can be fetched first. */
export function namedAccounts(signals: Signals): string[] {
  return [...new Set([
    ...signals.author_affinity.slice(0, SHOWN).map((a) => a.account_id),
    ...signals.skipped_authors.slice(0, SHOWN).map((a) => a.account_id),
    ...signals.show_less.accounts.slice(0, SHOWN),
  ])];
}
