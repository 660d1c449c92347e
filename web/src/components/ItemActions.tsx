/**
 * The actions beside a For You item: like, boost, reply, bookmark, share, follow the author, "show less
 * like this" (the post, the author or one of its hashtags) and why it is here. Each shows its state.
 */
import { useEffect, useState } from "preact/hooks";

import { masto, type Relationship, type Status } from "../api/mastodon";
import { showLess, type LessTarget } from "../api/stoa";
import { useT } from "../i18n";
import { statusPath } from "../routes";
import { errorText } from "./ErrorNotice";
import { useMe } from "./me";

interface Props {
  status: Status;
  /** Its item is on screen (or next): the author's relationship is asked for then, not for every post. */
  near: boolean;
  onChange: (status: Status) => void;
  onExplain: () => void;
}

/** Runs one action; its failure becomes the notice (a share the person cancelled is not a failure). */
type Act = (work: () => Promise<void>) => Promise<void>;

export async function shareLink(url: string, title: string): Promise<"shared" | "copied"> {
  if (typeof navigator.share === "function") {
    try {
      await navigator.share({ url, title });
      return "shared";
    } catch (problem) {
      if (problem instanceof DOMException && problem.name === "AbortError") throw problem;
      // no share target here: copy instead
    }
  }
  await navigator.clipboard.writeText(url);
  return "copied";
}

function authorName(status: Status): string {
  return status.account.displayName || status.account.username;
}

export function ItemActions({ status, near, onChange, onExplain }: Props) {
  const t = useT();
  const [notice, setNotice] = useState<string | null>(null);
  const name = authorName(status);

  const act: Act = async (work) => {
    setNotice(null);
    try {
      await work();
    } catch (problem) {
      if (!(problem instanceof DOMException && problem.name === "AbortError")) setNotice(errorText(problem));
    }
  };
  const api = () => masto().v1.statuses.$select(status.id);
  const update = (updated: Status) => onChange(updated.reblog ?? updated);
  const like = () => act(async () => update(status.favourited ? await api().unfavourite() : await api().favourite()));
  const boost = () => act(async () => update(status.reblogged ? await api().unreblog() : await api().reblog()));
  const bookmark = () => act(async () => update(status.bookmarked ? await api().unbookmark() : await api().bookmark()));
  const share = () => act(async () => {
    const how = await shareLink(status.url ?? location.origin + statusPath(status.account.acct, status.id), name);
    setNotice(how === "copied" ? t("itemActions.copied") : t("itemActions.shared"));
  });

  return (
    <div class="item-actions" role="group" aria-label={t("itemActions.label", { name })}>
      <FollowButton status={status} near={near} act={act} />
      <button type="button" class="rail-button" aria-pressed={!!status.favourited} onClick={like}
              aria-label={`${t("status.like")}, ${t("status.likes", { count: status.favouritesCount })}`}>
        <span aria-hidden="true">{status.favourited ? "♥" : "♡"}</span>
        <span class="rail-label">{status.favouritesCount}</span>
      </button>
      <button type="button" class="rail-button" aria-pressed={!!status.reblogged} onClick={boost}
              disabled={status.visibility === "private" || status.visibility === "direct"}
              aria-label={`${t("status.boost")}, ${t("status.boosts", { count: status.reblogsCount })}`}>
        <span aria-hidden="true">⟳</span>
        <span class="rail-label">{status.reblogsCount}</span>
      </button>
      <a class="rail-button" href={statusPath(status.account.acct, status.id)}
         aria-label={`${t("status.replyTo", { name })}, ${t("status.replies", { count: status.repliesCount })}`}>
        <span aria-hidden="true">↩</span>
        <span class="rail-label">{status.repliesCount}</span>
      </a>
      <button type="button" class="rail-button" aria-pressed={!!status.bookmarked} onClick={bookmark}>
        <span aria-hidden="true">{status.bookmarked ? "★" : "☆"}</span>
        <span class="rail-label">{t("itemActions.bookmark")}</span>
      </button>
      <button type="button" class="rail-button" onClick={share} aria-label={t("itemActions.share")}>
        <span aria-hidden="true">↗</span>
        <span class="rail-label">{t("itemActions.shareShort")}</span>
      </button>
      <LessMenu status={status} act={act} onChosen={(what) => setNotice(t("itemActions.lessDone", { what }))} />
      <button type="button" class="rail-button" onClick={onExplain} aria-label={t("forYou.why")}>
        <span aria-hidden="true">?</span>
        <span class="rail-label">{t("itemActions.whyShort")}</span>
      </button>
      <p class="rail-notice" role="status">{notice}</p>
    </div>
  );
}

/** Follow or unfollow the author; its place is kept while the relationship loads, so nothing moves. */
function FollowButton({ status, near, act }: { status: Status; near: boolean; act: Act }) {
  const t = useT();
  const me = useMe();
  const [relationship, setRelationship] = useState<Relationship | null>(null);
  const mine = me?.id === status.account.id;

  useEffect(() => {
    if (!near || relationship || !me || mine) return;
    masto().v1.accounts.relationships.fetch({ id: [status.account.id] })
      .then(([found]) => setRelationship(found ?? null), () => undefined);
  }, [near, me, mine]);

  if (mine) return null;
  const following = !!(relationship?.following || relationship?.requested);
  const toggle = () => act(async () => {
    const account = masto().v1.accounts.$select(status.account.id);
    setRelationship(following ? await account.unfollow() : await account.follow());
  });
  return (
    <button type="button" class={following ? "rail-button" : "rail-button rail-follow"} aria-pressed={following}
            onClick={toggle} aria-label={t("itemActions.follow", { name: authorName(status) })} hidden={!relationship}>
      <span aria-hidden="true">{following ? "✓" : "+"}</span>
      <span class="rail-label">{t("profile.follow")}</span>
    </button>
  );
}

/** "Show less like this": a short menu of what to see less of — this post, its author, one of its hashtags. */
function LessMenu({ status, act, onChosen }: { status: Status; act: Act; onChosen: (what: string) => void }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState<string | null>(null);
  const choices: [LessTarget, string][] = [
    [{ statusId: status.id }, t("itemActions.lessPost")],
    [{ accountId: status.account.id }, t("itemActions.lessAuthor", { name: authorName(status) })],
    ...status.tags.slice(0, 3).map((tag): [LessTarget, string] => [{ tag: tag.name },
                                                                     t("itemActions.lessTag", { tag: tag.name })]),
  ];
  const choose = (target: LessTarget, label: string) => act(async () => {
    await showLess(target);
    setChosen(label);
    setOpen(false);
    onChosen(label);
  });
  return (
    <div class="rail-menu">
      <button type="button" class="rail-button" aria-expanded={open} aria-pressed={chosen !== null}
              onClick={() => setOpen(!open)} aria-label={t("itemActions.less")}>
        <span aria-hidden="true">⊘</span>
        <span class="rail-label">{t("itemActions.lessShort")}{chosen && <span aria-hidden="true"> ✓</span>}</span>
      </button>
      {open && (
        <ul class="rail-choices">
          {choices.map(([target, label]) => (
            <li key={label}>
              <button type="button" class="button button-small" aria-pressed={chosen === label}
                      onClick={() => choose(target, label)}>{label}</button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
