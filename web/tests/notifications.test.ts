import { describe, expect, it } from "vitest";

import type { Account, Status } from "../src/api/mastodon";
import { groupNotifications, type Notification, unreadCount } from "../src/components/notificationGroups";
import { groupSummary } from "../src/components/notificationText";

const HOUR = 60 * 60 * 1000;
const START = Date.parse("2026-12-01T12:00:00Z");

function person(name: string): Account {
  return { id: `a-${name}`, username: name.toLowerCase(), acct: name.toLowerCase(), displayName: name } as Account;
}

const post = (id: string) => ({ id, content: `<p>post ${id}</p>` }) as Status;

let next = 100;
/** A notification `hoursAgo` before START; ids grow with time, as the server's do. */
function notification(type: string, who: string, hoursAgo: number, status?: Status): Notification {
  next += 1;
  return { id: String(1000 - hoursAgo * 10 + (next % 10)), type, account: person(who), status,
           createdAt: new Date(START - hoursAgo * HOUR).toISOString(), groupKey: `ungrouped-${next}` } as Notification;
}

describe("grouping notifications", () => {
  it("gathers likes of one post into one line that names the newest and counts the others", () => {
    const p = post("1");
    const groups = groupNotifications([
      notification("favourite", "Alice", 0, p), notification("favourite", "Bob", 1, p),
      notification("favourite", "Carla", 2, p), notification("favourite", "Dan", 3, p),
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.accounts.map((a) => a.displayName)).toEqual(["Alice", "Bob", "Carla", "Dan"]);
    expect(groupSummary(groups[0]!)).toBe("Alice and 3 others liked your post");
  });

  it("names two people, and one alone", () => {
    const p = post("1");
    const two = groupNotifications([notification("reblog", "Alice", 0, p), notification("reblog", "Bob", 1, p)]);
    expect(groupSummary(two[0]!)).toBe("Alice and Bob boosted your post");
    expect(groupSummary(groupNotifications([notification("follow", "Eve", 0)])[0]!)).toBe("Eve followed you");
  });

  it("keeps likes of different posts, likes and boosts, and mentions apart; a group sits where its newest is", () => {
    const [a, b] = [post("1"), post("2")];
    const groups = groupNotifications([
      notification("favourite", "Alice", 0, a), notification("mention", "Bob", 1, b),
      notification("favourite", "Carla", 2, b), notification("reblog", "Dan", 3, a),
      notification("favourite", "Eve", 4, a), notification("mention", "Fay", 5, b),
    ]);
    expect(groups.map((g) => `${g.type}:${g.accounts.map((x) => x.displayName).join("+")}`)).toEqual([
      "favourite:Alice+Eve", "mention:Bob", "favourite:Carla", "reblog:Dan", "mention:Fay",
    ]);
  });

  it("gathers new followers, each person once, but not follow requests, which each need an answer", () => {
    const groups = groupNotifications([
      notification("follow", "Alice", 0), notification("follow_request", "Bob", 1), notification("follow", "Carla", 2),
      notification("follow", "Alice", 3), notification("follow_request", "Dan", 4),
    ]);
    expect(groups.map((g) => [g.type, g.accounts.length])).toEqual([["follow", 2], ["follow_request", 1],
                                                                     ["follow_request", 1]]);
    expect(groupSummary(groups[0]!)).toBe("Alice and Carla followed you");
    expect(groupSummary(groups[1]!)).toBe("Bob asked to follow you");
  });

  it("does not gather likes more than a day apart, and drops a notification seen twice (a page and the stream)", () => {
    const p = post("1");
    const live = notification("favourite", "Alice", 0, p);
    const groups = groupNotifications([live, live, notification("favourite", "Bob", 23, p),
                                       notification("favourite", "Carla", 30, p)]);
    expect(groups.map((g) => g.accounts.map((a) => a.displayName))).toEqual([["Alice", "Bob"], ["Carla"]]);
  });

  it("counts as unread what came after the read position", () => {
    const list = [{ id: "1000" }, { id: "999" }, { id: "98" }] as Notification[];
    expect(unreadCount(list, "999")).toBe(1);
    expect(unreadCount(list, "97")).toBe(3); // a shorter id is older
    expect(unreadCount(list, null)).toBe(3);
    expect(unreadCount(list, "1000")).toBe(0);
  });
});
