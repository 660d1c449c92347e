/**
 * The signed-in person's notifications as they arrive, over the streaming API (masto.js, the
 * `user:notification` stream), and how many are unread: newer than the `notifications` marker, the read
 * position every Mastodon client shares. One connection for the whole app, opened while signed in.
 */
import { createStreamingAPIClient, type mastodon } from "masto";
import { useEffect, useState } from "preact/hooks";

import { masto } from "../api/mastodon";
import { currentToken, onSessionChange } from "../api/session";
import { isNewer, type Notification, unreadCount } from "./notificationGroups";

interface Live {
  unread: number;
  lastReadId: string | null;
  /** The read position is known (what is newer is new). */
  ready: boolean;
  /** The stream is open: what happens now arrives here. */
  connected: boolean;
}

let live: Live = { unread: 0, lastReadId: null, ready: false, connected: false };
let client: mastodon.streaming.Client | null = null;
let subscription: mastodon.streaming.Subscription | null = null;
const stateListeners = new Set<(state: Live) => void>();
const arrivals = new Set<(notification: Notification) => void>();

function update(change: Partial<Live>): void {
  live = { ...live, ...change };
  for (const listener of stateListeners) listener(live);
}

/** Count what came after the saved read position (one page is enough for a badge: "40+" beyond). */
async function countUnread(): Promise<void> {
  const api = masto().v1;
  const [markers, latest] = await Promise.all([
    api.markers.fetch({ timeline: ["notifications"] }),
    api.notifications.list({ limit: 40 }),
  ]);
  const lastReadId = markers.notifications?.lastReadId ?? null;
  update({ lastReadId, unread: unreadCount(latest, lastReadId) });
}

async function listen(subscription: mastodon.streaming.Subscription): Promise<void> {
  for await (const event of subscription) {
    if (event.event !== "notification") continue;
    if (isNewer(event.payload.id, live.lastReadId)) update({ unread: live.unread + 1 });
    for (const arrived of arrivals) arrived(event.payload);
  }
}

/** How long to wait for a socket still opening: the server may be unreachable, or refuse WebSockets. */
const OPENING_WAIT_MS = 3000;

function opening(open: Promise<unknown>): Promise<unknown> {
  return Promise.race([open, new Promise((resolve) => setTimeout(resolve, OPENING_WAIT_MS))]);
}

function connect(token: string | null): void {
  subscription?.unsubscribe(); // while the socket is still open: closing first leaves it nothing to send on
  client?.close();
  client = null;
  subscription = null;
  update({ unread: 0, lastReadId: null, ready: false, connected: false });
  if (!token) return;
  const opened = createStreamingAPIClient({ streamingApiUrl: location.origin.replace(/^http/, "ws"), accessToken: token });
  client = opened;
  subscription = opened.user.notification.subscribe();
  listen(subscription).catch(() => undefined); // closed on sign-out
  // The socket is open once `prepare` answers; what came before it is counted from the list. A socket that
  // does not open (a proxy without WebSockets) leaves the badge counted once, and nothing live.
  const open = opened.prepare().then(() => client === opened && update({ connected: true }));
  opening(open)
    .then(() => countUnread())
    .catch(() => undefined)
    .finally(() => client === opened && update({ ready: true }));
}

let started = false;

function start(): void {
  if (started || typeof window === "undefined") return;
  started = true;
  onSessionChange(connect);
  connect(currentToken());
}

/** The unread count and read position, kept current. */
export function useLive(): Live {
  const [state, setState] = useState(live);
  useEffect(() => {
    start();
    stateListeners.add(setState);
    setState(live);
    return () => void stateListeners.delete(setState);
  }, []);
  return state;
}

/** Called with each notification as it arrives, while the calling component is shown. */
export function useArrivals(onArrival: (notification: Notification) => void): void {
  useEffect(() => {
    arrivals.add(onArrival);
    return () => void arrivals.delete(onArrival);
  }, [onArrival]);
}

/** Everything up to `id` has been read: saved on the server, so other clients and devices agree. */
export async function markRead(id: string): Promise<void> {
  if (!isNewer(id, live.lastReadId)) return;
  update({ lastReadId: id, unread: 0 });
  await masto().v1.markers.create({ notifications: { lastReadId: id } });
}


/**
 * Close the stream before something that ends the session on the server (signing out, erasing the
 * account), so it does not come back with a token that no longer works. A socket still opening cannot be
 * closed from here (masto.js holds it), so this waits for it to open first. Answers how to open it again.
 */
export async function closeLive(): Promise<() => void> {
  const open = client?.prepare();
  if (open) await opening(open).catch(() => undefined);
  connect(null);
  return () => connect(currentToken());
}
