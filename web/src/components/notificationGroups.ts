/**
 * Notifications as a person reads them: likes and boosts of one post, and new followers, gathered into
 * one line ("Alice and 3 others liked your post") the way Mastodon's web app gathers them; everything
 * else (mentions, follow requests, polls, edits) stays one line each, since each asks for its own answer.
 */
import type { mastodon } from "masto";

import type { Account, Status } from "../api/mastodon";

export type Notification = mastodon.v1.Notification;

export interface NotificationGroup {
  /** Stable while the group grows: the id of the first notification that made it. */
  key: string;
  type: Notification["type"];
  /** Newest first. */
  notifications: Notification[];
  /** Who, newest first, each once. */
  accounts: Account[];
  status: Status | null;
  /** The newest notification's id and time. */
  latestId: string;
  latestAt: string;
}

/** Further apart than this, two likes of the same post are two moments, not one. */
export const GROUP_WINDOW_MS = 24 * 60 * 60 * 1000;

function gatherKey(notification: Notification): string | null {
  if (notification.type === "favourite" || notification.type === "reblog") {
    return `${notification.type}:${notification.status?.id ?? notification.id}`; // a post since deleted: alone
  }
  return notification.type === "follow" ? "follow" : null;
}

/** Ids are decimal strings that grow with time: longer is newer, then by digits. */
export function isNewer(id: string, than: string | null | undefined): boolean {
  if (!than) return true;
  return id.length !== than.length ? id.length > than.length : id > than;
}

/** Group a newest-first list (duplicates dropped); groups come in the order of their newest member. */
export function groupNotifications(list: readonly Notification[]): NotificationGroup[] {
  const groups: NotificationGroup[] = [];
  const open = new Map<string, NotificationGroup>();
  const seen = new Set<string>();
  for (const notification of list) {
    if (seen.has(notification.id)) continue;
    seen.add(notification.id);
    const key = gatherKey(notification);
    const group = key ? open.get(key) : undefined;
    const when = new Date(notification.createdAt).getTime();
    if (group && new Date(group.latestAt).getTime() - when <= GROUP_WINDOW_MS) {
      group.notifications.push(notification);
      if (!group.accounts.some((a) => a.id === notification.account.id)) group.accounts.push(notification.account);
      continue;
    }
    const created: NotificationGroup = {
      key: notification.id, type: notification.type, notifications: [notification], accounts: [notification.account],
      status: notification.status ?? null, latestId: notification.id, latestAt: notification.createdAt,
    };
    groups.push(created);
    if (key) open.set(key, created);
  }
  return groups;
}

/** How many of these (newest first) came after the last one read. */
export function unreadCount(list: readonly Notification[], lastReadId: string | null): number {
  return list.filter((n) => isNewer(n.id, lastReadId)).length;
}
