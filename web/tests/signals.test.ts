import { describe, expect, it } from "vitest";

import type { Signals } from "../src/api/controls";
import { namedAccounts, signalLines } from "../src/components/signalWords";

const NOTHING: Signals = {
  languages: [], following_count: 0, author_affinity: [], tag_affinity: [],
  show_less: { statuses: [], accounts: [], tags: [] }, history_reset_at: null,
  labels: [{ label: "nsfw", meaning: "sensitive", action: "show" }], seen_posts: 0, skipped_authors: [],
  affinity_window_days: 30, hidden_accounts: 0,
};

const NAMES: Record<string, string> = { "1": "@alice", "2": "@bob" };
const name = (id: string) => NAMES[id] ?? "an account no longer here";

function lines(signals: Signals): Record<string, string> {
  return Object.fromEntries(signalLines(signals, name).map((line) => [line.id, line.text]));
}

describe("the signals For You stores, in plain words", () => {
  it("says so when nothing is known yet", () => {
    expect(lines(NOTHING)).toEqual({
      languages: "No reading languages noted yet.",
      following: "You follow 0 accounts: posts from people you follow rank higher.",
      authors: "You have not liked, boosted or replied to anyone in the last 30 days.",
      tags: "No hashtags from your activity in the last 30 days.",
      seen: "For You has shown you 0 posts; it leaves out what you have already seen.",
      less: "You have not asked to see less of anything.",
      labels: "No labelled posts are hidden from your feed.",
      reset: "You have never reset your history.",
    });
  });

  it("names people and hashtags instead of ids, with how often, and lists what was asked for less", () => {
    const said = lines({
      ...NOTHING, languages: ["en", "it"], following_count: 1,
      author_affinity: [{ account_id: "1", engagements: 3 }, { account_id: "2", engagements: 1 }],
      tag_affinity: [{ tag: "cycling", engagements: 2 }],
      show_less: { statuses: ["9", "10"], accounts: ["2"], tags: ["news"] },
      labels: [{ label: "nsfw", meaning: "sensitive", action: "hide" }], seen_posts: 1,
      skipped_authors: [{ account_id: "7", skips: 4 }], hidden_accounts: 2,
      history_reset_at: "2026-11-30T10:00:00Z",
    });
    expect(said.languages).toBe("You read posts in English and Italian.");
    expect(said.following).toBe("You follow 1 account: posts from people you follow rank higher.");
    expect(said.authors).toBe("In the last 30 days you liked, boosted or replied to @alice (3 times) and @bob (1 time).");
    expect(said.tags).toBe("Hashtags of posts you engaged with in the last 30 days: #cycling (2 times).");
    expect(said.seen).toBe("For You has shown you 1 post; it leaves out what you have already seen.");
    expect(said.skipped).toBe("You scrolled quickly past posts by an account no longer here (4 times): "
                              + "their posts rank a little lower.");
    expect(said.less).toBe("You asked to see less of 2 posts, @bob, and #news.");
    expect(said.labels).toBe("Hidden from your feed: sensitive.");
    expect(said.hidden).toBe("2 accounts you muted or blocked are kept out.");
    expect(said.reset).toMatch(/^You reset your history on November 30, 2026.*: nothing before that counts\.$/);
  });

  it("shortens long lists, and asks for the names it will show", () => {
    const many = Array.from({ length: 8 }, (_, i) => ({ account_id: String(i + 1), engagements: 1 }));
    expect(lines({ ...NOTHING, author_affinity: many }).authors).toMatch(/@bob \(1 time\), .*, and 3 more\.$/);
    expect(namedAccounts({ ...NOTHING, author_affinity: many, show_less: { statuses: [], accounts: ["1", "42"],
                                                                            tags: [] } }))
      .toEqual(["1", "2", "3", "4", "5", "42"]);
  });
});
