/** A person's say over For You (src/stoa/api/stoa/feeds.py): what it stores about them, labels, a reset. */
import { call } from "./http";
import { currentToken } from "./session";

export interface LabelChoice {
  label: string;
  meaning: string;
  action: "hide" | "show";
}

/** Everything the For You feed reads about the signed-in person, as the server answers it. */
export interface Signals {
  languages: string[];
  following_count: number;
  author_affinity: { account_id: string; engagements: number }[];
  tag_affinity: { tag: string; engagements: number }[];
  show_less: { statuses: string[]; accounts: string[]; tags: string[] };
  history_reset_at: string | null;
  labels: LabelChoice[];
  seen_posts: number;
  skipped_authors: { account_id: string; skips: number }[];
  affinity_window_days: number;
  hidden_accounts: number;
}

const BASE = "/api/v1/stoa/feeds/for_you";

export async function storedSignals(): Promise<Signals> {
  return (await call<Signals>(`${BASE}/signals`, { token: currentToken() })).items;
}

export async function chooseLabel(label: string, action: "hide" | "show"): Promise<Signals> {
  return (await call<Signals>(`${BASE}/labels`, { method: "POST", token: currentToken(), form: { label, action } }))
    .items;
}

/** Forget every "show less" and rank as if nothing before now had happened (label choices stay). */
export async function resetHistory(): Promise<Signals> {
  return (await call<Signals>(`${BASE}/reset`, { method: "POST", token: currentToken() })).items;
}
