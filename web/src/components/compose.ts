/** What the composer needs to know before it sends: the server's limit and how the server counts. */
import { masto } from "../api/mastodon";

export const DEFAULT_MAX_CHARACTERS = 500;

/** As the server counts: code points of the text plus those of the content warning. */
export function countCharacters(text: string, warning: string): number {
  return [...text].length + [...warning].length;
}

let limit: Promise<number> | null = null;

/** The server's character limit (from /api/v2/instance), asked once. */
export function maxCharacters(): Promise<number> {
  limit ??= masto().v2.instance.fetch().then(
    (instance) => instance.configuration.statuses.maxCharacters ?? DEFAULT_MAX_CHARACTERS,
    () => {
      limit = null;
      return DEFAULT_MAX_CHARACTERS;
    },
  );
  return limit;
}

const DRAFT_PREFIX = "stoa.draft.";

/** Drafts are kept in this browser until posted, so a failed post or a closed tab loses nothing. */
export function loadDraft(key: string): string {
  try {
    return localStorage.getItem(DRAFT_PREFIX + key) ?? "";
  } catch {
    return "";
  }
}

export function saveDraft(key: string, text: string): void {
  try {
    if (text) localStorage.setItem(DRAFT_PREFIX + key, text);
    else localStorage.removeItem(DRAFT_PREFIX + key);
  } catch {
    // storage disabled or full: the text stays in the form
  }
}
