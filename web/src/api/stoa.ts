/** Stoa's own API extensions (src/stoa/api/stoa): the For You feed and its explanations. */
import { call, type Page } from "./http";
import type { Status } from "./mastodon";
import { currentToken } from "./session";

/** personalised: ranked from what you did here; none: the same feed for everyone, no profiling. */
export type ForYouMode = "personalised" | "none";

export interface Contribution {
  name: string;
  value: number;
  weight: number;
  contribution: number;
}

export interface Explanation {
  status_id: string;
  in_feed: boolean;
  mode: ForYouMode;
  policy: string[];
  sentence: string;
  model: { name: string; sha256: string | null };
  position?: number | null;
  sources?: string[] | null;
  features?: Contribution[] | null;
  score?: number | null;
  predictions?: Record<string, number> | null;
}

/**
 * The JSON's keys as masto.js gives them (`media_attachments` -> `mediaAttachments`), so the posts of For
 * You are the same Status objects as those of every other timeline. Keys masto.js keeps as they are (with
 * a colon, or a leading underscore) are kept too.
 */
export function camelKeys<T>(data: unknown): T {
  if (Array.isArray(data)) return data.map((item) => camelKeys(item)) as T;
  if (data === null || typeof data !== "object") return data as T;
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [
    key.includes(":") || key.startsWith("_") ? key : key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
    camelKeys(value),
  ])) as T;
}

/** A page of For You; pass the previous page's `next` to continue where it ended. */
export async function forYou(mode: ForYouMode, next: string | null = null, limit = 10): Promise<Page<Status[]>> {
  const path = next ?? `/api/v1/timelines/for_you?${new URLSearchParams({ mode, limit: String(limit) })}`;
  const page = await call<unknown>(path, { token: currentToken() });
  return { items: camelKeys<Status[]>(page.items), next: page.next };
}

export async function explain(statusId: string, mode: ForYouMode): Promise<Explanation> {
  const path = `/api/v1/stoa/feeds/for_you/explain/${encodeURIComponent(statusId)}?mode=${mode}`;
  return (await call<Explanation>(path, { token: currentToken() })).items;
}

/** A post was on screen for `watchedMs`; `skipped` when it was scrolled past at once. */
export async function recordView(statusId: string, watchedMs: number, skipped: boolean): Promise<void> {
  await call("/api/v1/stoa/feeds/views", {
    method: "POST",
    token: currentToken(),
    form: { status_id: statusId, watched_ms: String(Math.round(watchedMs)), skipped: String(skipped) },
  });
}

/** What "Show less like this" is about: one post, one author, or one hashtag. */
export type LessTarget = { statusId: string } | { accountId: string } | { tag: string };

export async function showLess(target: LessTarget): Promise<void> {
  const form: Record<string, string> = "statusId" in target ? { status_id: target.statusId }
    : "accountId" in target ? { account_id: target.accountId } : { tag: target.tag };
  await call("/api/v1/stoa/feeds/for_you/less", { method: "POST", token: currentToken(), form });
}
