/** A person's profile: who they are, follow or unfollow, and their posts. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { useRoute } from "preact-iso";

import { type Account, masto, type Relationship } from "../api/mastodon";
import { Avatar } from "../components/Avatar";
import { renderContent } from "../components/content";
import { ErrorNotice, errorText } from "../components/ErrorNotice";
import { useMe } from "../components/me";
import { Timeline } from "../components/Timeline";
import { useT } from "../i18n";
import { acctFromSegment } from "../routes";
import { NotFound } from "./NotFound";

export function Profile() {
  const acct = acctFromSegment(useRoute().params.handle);
  return acct ? <ProfileOf key={acct} acct={acct} /> : <NotFound />;
}

function ProfileOf({ acct }: { acct: string }) {
  const t = useT();
  const me = useMe();
  const [account, setAccount] = useState<Account | null>(null);
  const [relationship, setRelationship] = useState<Relationship | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function load() {
    setError(null);
    try {
      setAccount(await masto().v1.accounts.lookup({ acct }));
    } catch (failure) {
      setError(failure);
    }
  }

  useEffect(() => {
    void load();
  }, [acct]);

  useEffect(() => {
    if (!account || !me || me.id === account.id) return;
    masto().v1.accounts.relationships.fetch({ id: [account.id] })
      .then((found) => setRelationship(found[0] ?? null), () => undefined);
  }, [account?.id, me?.id]);

  const pages = useMemo(
    () => () => masto().v1.accounts.$select(account?.id ?? "").statuses.list({ limit: 20 }).values(),
    [account?.id],
  );

  async function toggleFollow() {
    if (!account || !relationship) return;
    setBusy(true);
    setProblem(null);
    try {
      const api = masto().v1.accounts.$select(account.id);
      const following = relationship.following || relationship.requested;
      setRelationship(following ? await api.unfollow() : await api.follow());
    } catch (failure) {
      setProblem(errorText(failure));
    } finally {
      setBusy(false);
    }
  }

  if (error) return <div class="column"><h1 class="page-title">@{acct}</h1><ErrorNotice error={error} onRetry={load} /></div>;
  if (!account) return <div class="column"><p role="status">{t("timeline.loading")}</p></div>;
  const isMe = me?.id === account.id;
  const followLabel = relationship?.following ? t("profile.unfollow")
    : relationship?.requested ? t("profile.requested") : t("profile.follow");
  return (
    <div class="column">
      <header class="profile">
        {account.header && !account.header.endsWith("/missing.png") && (
          <img class="profile-header" src={account.headerStatic || account.header} alt="" />
        )}
        <div class="profile-top">
          <Avatar account={account} size={80} />
          {isMe ? <span class="badge">{t("profile.you")}</span> : me && relationship && (
            <button type="button" class={relationship.following || relationship.requested ? "button" : "button button-primary"}
                    aria-pressed={relationship.following} disabled={busy} onClick={toggleFollow}>
              {followLabel}
            </button>
          )}
        </div>
        <h1 class="profile-name">{account.displayName || account.username}</h1>
        <p class="acct">@{account.acct} {relationship?.followedBy && <span class="badge">{t("profile.followsYou")}</span>}</p>
        {account.note && renderContent(account.note)}
        <p class="counts">
          <span>{t("profile.posts", { count: account.statusesCount })}</span>
          <span>{t("profile.followers", { count: account.followersCount })}</span>
          <span>{t("profile.following", { count: account.followingCount })}</span>
        </p>
        {problem && <p class="notice notice-error" role="alert">{problem}</p>}
      </header>
      <h2 class="section-title">{t("profile.postsHeading")}</h2>
      <Timeline key={account.id} pages={pages} label={t("profile.postsHeading")} />
    </div>
  );
}
