/** One post: who, when, its content (behind its warning), media, and the actions on it. */
import { useState } from "preact/hooks";

import { masto, type Status } from "../api/mastodon";
import { fullDate, languageName, relativeTime, useT } from "../i18n";
import { profilePath, statusPath } from "../routes";
import { Avatar } from "./Avatar";
import { renderContent } from "./content";
import { errorText } from "./ErrorNotice";
import { MediaGrid } from "./Media";

function displayName(account: Status["account"]): string {
  return account.displayName || account.username;
}

interface Props {
  status: Status;
  /** The post this page is about: bigger, with its full date. */
  focused?: boolean;
  onReply?: (status: Status) => void;
  /** For You draws the media and the actions itself: the card shows who, when and what was written. */
  bare?: boolean;
}

export function StatusCard({ status: shown, focused = false, onReply, bare = false }: Props) {
  const t = useT();
  const boostedBy = shown.reblog ? shown.account : null;
  const [status, setStatus] = useState<Status>(shown.reblog ?? shown);
  const [problem, setProblem] = useState<string | null>(null);
  const [revealed, setRevealed] = useState(false);
  const name = displayName(status.account);
  const path = statusPath(status.account.acct, status.id);

  async function toggle(kind: "favourite" | "reblog") {
    setProblem(null);
    const api = masto().v1.statuses.$select(status.id);
    try {
      const on = kind === "favourite" ? status.favourited : status.reblogged;
      let updated: Status;
      if (kind === "favourite") updated = on ? await api.unfavourite() : await api.favourite();
      else updated = on ? await api.unreblog() : await api.reblog();
      setStatus(updated.reblog ?? updated);
    } catch (error) {
      setProblem(errorText(error));
    }
  }

  const hasWarning = status.spoilerText.length > 0;
  // The visible count stays part of the name, so speech control ("click 3 replies") finds the button.
  const replyLabel = `${t("status.replyTo", { name })}, ${t("status.replies", { count: status.repliesCount })}`;
  return (
    <article class={focused ? "status status-focused" : "status"} aria-label={t("status.openPost", { name })}>
      {boostedBy && <p class="status-context">{t("status.boostedBy", { name: displayName(boostedBy) })}</p>}
      <header class="status-header">
        <a href={profilePath(status.account.acct)} class="status-author">
          <Avatar account={status.account} />
          <span class="names">
            <strong class="display-name">{name}</strong>
            <span class="acct">@{status.account.acct}</span>
          </span>
        </a>
        <a href={path} class="status-time">
          <time dateTime={status.createdAt} title={fullDate(status.createdAt)}>
            {focused ? fullDate(status.createdAt) : relativeTime(status.createdAt)}
          </time>
        </a>
      </header>
      {hasWarning && (
        <div class="warning">
          <p>{t("status.contentWarning", { text: status.spoilerText })}</p>
          <button type="button" class="button button-small" aria-expanded={revealed}
                  onClick={() => setRevealed(!revealed)}>
            {t("status.showContent")}
          </button>
        </div>
      )}
      {(!hasWarning || revealed) && (
        <div class="status-body" lang={status.language ?? undefined}>
          {renderContent(status.content)}
          {!bare && status.mediaAttachments.length > 0 && <MediaGrid attachments={status.mediaAttachments} />}
        </div>
      )}
      {focused && status.language && <p class="meta">{t("status.language", { language: languageName(status.language) })}</p>}
      {!bare && <footer class="status-actions">
        {onReply ? (
          <button type="button" class="action" onClick={() => onReply(status)}
                  aria-label={replyLabel}>
            <span aria-hidden="true">↩</span> {t("status.replies", { count: status.repliesCount })}
          </button>
        ) : (
          <a class="action" href={path} aria-label={replyLabel}>
            <span aria-hidden="true">↩</span> {t("status.replies", { count: status.repliesCount })}
          </a>
        )}
        <button type="button" class="action" aria-pressed={!!status.reblogged}
                disabled={status.visibility === "private" || status.visibility === "direct"}
                onClick={() => toggle("reblog")}
                aria-label={`${t("status.boost")}, ${t("status.boosts", { count: status.reblogsCount })}`}>
          <span aria-hidden="true">⟳</span> {t("status.boosts", { count: status.reblogsCount })}
        </button>
        <button type="button" class="action" aria-pressed={!!status.favourited} onClick={() => toggle("favourite")}
                aria-label={`${t("status.like")}, ${t("status.likes", { count: status.favouritesCount })}`}>
          <span aria-hidden="true">{status.favourited ? "♥" : "♡"}</span> {t("status.likes", { count: status.favouritesCount })}
        </button>
      </footer>}
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
    </article>
  );
}
