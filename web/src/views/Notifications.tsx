/**
 * Notifications: likes and boosts of one post and new followers gathered into one line, mentions and
 * follow requests one by one; All or Mentions; more as the end scrolls into view; new ones arriving live;
 * the read position saved as the `notifications` marker, so every client agrees on what is new.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";

import { masto } from "../api/mastodon";
import { Avatar } from "../components/Avatar";
import { renderContent } from "../components/content";
import { ErrorNotice, errorText } from "../components/ErrorNotice";
import { markRead, useArrivals, useLive } from "../components/liveNotifications";
import { useSignedIn } from "../components/me";
import { groupNotifications, isNewer, type Notification, type NotificationGroup } from "../components/notificationGroups";
import { groupSummary } from "../components/notificationText";
import { usePaged } from "../components/paging";
import { StatusCard } from "../components/StatusCard";
import { relativeTime, fullDate, useT } from "../i18n";
import { profilePath, statusPath } from "../routes";
import { SignIn } from "./SignIn";

type Filter = "all" | "mentions";
const ICONS: Partial<Record<Notification["type"], string>> = {
  favourite: "♥", reblog: "⟳", follow: "☺", follow_request: "?", mention: "@", status: "✎", update: "✎", poll: "☑",
};

export function Notifications() {
  const signedIn = useSignedIn();
  const { query } = useLocation();
  const filter: Filter = query.filter === "mentions" ? "mentions" : "all";
  return signedIn ? <NotificationList key={filter} filter={filter} /> : <SignIn returnTo="/notifications" />;
}

function FilterTabs({ filter }: { filter: Filter }) {
  const t = useT();
  return (
    <nav class="feed-tabs" aria-label={t("notifications.filters")}>
      <a href="/notifications" aria-current={filter === "all" ? "page" : undefined}>{t("notifications.all")}</a>
      <a href="/notifications?filter=mentions" aria-current={filter === "mentions" ? "page" : undefined}>
        {t("notifications.mentions")}
      </a>
    </nav>
  );
}

function NotificationList({ filter }: { filter: Filter }) {
  const t = useT();
  const live = useLive();
  const pages = useMemo(() => () => masto().v1.notifications
    .list({ limit: 30, types: filter === "mentions" ? ["mention"] : undefined }).values(), [filter]);
  const paged = usePaged<Notification>(pages);
  // What was new when the page opened stays marked as new while it is open.
  const readWhenOpened = useRef<string | null | undefined>(undefined);
  if (readWhenOpened.current === undefined && live.ready) readWhenOpened.current = live.lastReadId;

  const newest = paged.items[0]?.id;
  useEffect(() => {
    if (newest && live.ready && document.visibilityState === "visible") markRead(newest).catch(() => undefined);
  }, [newest, live.ready]);

  useArrivals(useCallback((arrived: Notification) => {
    if (filter === "mentions" && arrived.type !== "mention") return;
    paged.setItems((old) => [arrived, ...old.filter((n) => n.id !== arrived.id)]);
  }, [filter]));

  const groups = groupNotifications(paged.items);
  function dismissed(group: NotificationGroup) {
    const gone = new Set(group.notifications.map((n) => n.id));
    paged.setItems((old) => old.filter((n) => !gone.has(n.id)));
  }

  return (
    <div class="column">
      <h1 class="page-title">{t("notifications.title")}</h1>
      <FilterTabs filter={filter} />
      <p class="hint" aria-live="polite">{live.connected ? t("notifications.live") : t("notifications.connecting")}</p>
      <ol class="notifications" aria-label={t("notifications.title")} aria-busy={paged.loading}>
        {groups.map((group) => (
          <GroupItem key={group.key} group={group} onDismissed={dismissed}
                     isNew={readWhenOpened.current !== undefined && isNewer(group.latestId, readWhenOpened.current)} />
        ))}
      </ol>
      {paged.error ? <ErrorNotice error={paged.error} onRetry={() => void paged.loadMore()} /> : null}
      <div ref={paged.end} class="timeline-end">
        {paged.loading && <p role="status">{t("timeline.loading")}</p>}
        {!paged.loading && paged.done && (
          <p>{groups.length ? t("timeline.end") : filter === "mentions" ? t("notifications.emptyMentions")
            : t("notifications.empty")}</p>
        )}
        {!paged.loading && !paged.done && !paged.error && groups.length > 0 && (
          <button type="button" class="button" onClick={() => void paged.loadMore()}>{t("timeline.loadMore")}</button>
        )}
      </div>
    </div>
  );
}

interface ItemProps {
  group: NotificationGroup;
  isNew: boolean;
  onDismissed: (group: NotificationGroup) => void;
}

function GroupItem({ group, isNew, onDismissed }: ItemProps) {
  const t = useT();
  const [problem, setProblem] = useState<string | null>(null);
  const summary = groupSummary(group);

  async function dismiss() {
    setProblem(null);
    try {
      await Promise.all(group.notifications.map((n) => masto().v1.notifications.$select(n.id).dismiss()));
      onDismissed(group);
    } catch (error) {
      setProblem(errorText(error));
    }
  }

  const onPost = group.status && (group.type === "favourite" || group.type === "reblog");
  const fullPost = group.status && !onPost;
  return (
    <li class={isNew ? "notification notification-new" : "notification"}>
      <span class="notification-icon" aria-hidden="true">{ICONS[group.type] ?? "•"}</span>
      <div class="notification-main">
        {!fullPost && (
          <div class="notification-avatars">
            {group.accounts.slice(0, 6).map((account) => (
              <a key={account.id} href={profilePath(account.acct)} aria-label={account.displayName || account.username}>
                <Avatar account={account} size={32} />
              </a>
            ))}
          </div>
        )}
        <p class="notification-summary">
          <strong>{summary}</strong>{" "}
          {!fullPost && (
            <time class="meta" dateTime={group.latestAt} title={fullDate(group.latestAt)}>
              {relativeTime(group.latestAt)}
            </time>
          )}
          {isNew && <> <span class="badge badge-new">{t("notifications.new")}</span></>}
        </p>
        {onPost && group.status && (
          <a class="notification-post" href={statusPath(group.status.account.acct, group.status.id)}
             lang={group.status.language ?? undefined}>
            {renderContent(group.status.content)}
          </a>
        )}
        {fullPost && group.status && <StatusCard status={group.status} />}
        {group.type === "follow_request" && group.accounts[0] && <FollowRequest accountId={group.accounts[0].id} />}
        {problem && <p class="notice notice-error" role="alert">{problem}</p>}
      </div>
      <button type="button" class="action dismiss" onClick={dismiss}
              aria-label={t("notifications.dismissLabel", { summary })}>
        <span aria-hidden="true">✕</span>
      </button>
    </li>
  );
}

function FollowRequest({ accountId }: { accountId: string }) {
  const t = useT();
  const [answer, setAnswer] = useState<"accepted" | "rejected" | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function reply(accept: boolean) {
    setProblem(null);
    try {
      const request = masto().v1.followRequests.$select(accountId);
      await (accept ? request.authorize() : request.reject());
      setAnswer(accept ? "accepted" : "rejected");
    } catch (error) {
      setProblem(errorText(error));
    }
  }

  if (answer) return <p role="status">{t(answer === "accepted" ? "notifications.accepted" : "notifications.rejected")}</p>;
  return (
    <div class="actions">
      <button type="button" class="button button-primary button-small" onClick={() => reply(true)}>
        {t("notifications.accept")}
      </button>
      <button type="button" class="button button-small" onClick={() => reply(false)}>{t("notifications.reject")}</button>
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
    </div>
  );
}
