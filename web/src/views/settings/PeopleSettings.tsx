/** The accounts the person muted or blocked, each with a way back. */
import { useMemo, useState } from "preact/hooks";

import { type Account, masto } from "../../api/mastodon";
import { Avatar } from "../../components/Avatar";
import { ErrorNotice, errorText } from "../../components/ErrorNotice";
import { usePaged } from "../../components/paging";
import { useT } from "../../i18n";

type Kind = "mutes" | "blocks";

export function PeopleSettings() {
  const t = useT();
  return (
    <section id="people" aria-labelledby="people-title" class="card">
      <h2 id="people-title" class="section-title">{t("people.title")}</h2>
      <PeopleList kind="mutes" />
      <PeopleList kind="blocks" />
    </section>
  );
}

function PeopleList({ kind }: { kind: Kind }) {
  const t = useT();
  const pages = useMemo(() => () => (kind === "mutes" ? masto().v1.mutes : masto().v1.blocks)
    .list({ limit: 40 }).values(), [kind]);
  const paged = usePaged<Account>(pages);
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const heading = kind === "mutes" ? t("people.muted") : t("people.blocked");

  async function undo(account: Account) {
    setProblem(null);
    const handle = `@${account.acct}`;
    try {
      const api = masto().v1.accounts.$select(account.id);
      await (kind === "mutes" ? api.unmute() : api.unblock());
      paged.setItems((old) => old.filter((a) => a.id !== account.id));
      setSaid(kind === "mutes" ? t("people.unmuted", { handle }) : t("people.unblocked", { handle }));
    } catch (error) {
      setProblem(errorText(error));
    }
  }

  return (
    <div class="people" aria-busy={paged.loading}>
      <h3 class="subsection-title">{heading}</h3>
      <p class="visually-hidden" role="status">{said}</p>
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
      {paged.error ? <ErrorNotice error={paged.error} onRetry={() => void paged.loadMore()} /> : null}
      <ul class="result-list" aria-label={heading}>
        {paged.items.map((account) => (
          <li key={account.id} class="person-row">
            <a class="person" href={`/@${account.acct}`}>
              <Avatar account={account} size={36} />
              <span class="names">
                <strong class="display-name">{account.displayName || account.username}</strong>
                <span class="acct">@{account.acct}</span>
              </span>
            </a>
            <button type="button" class="button button-small" onClick={() => undo(account)}
                    aria-label={kind === "mutes" ? t("people.unmuteLabel", { handle: account.acct })
                      : t("people.unblockLabel", { handle: account.acct })}>
              {kind === "mutes" ? t("people.unmute") : t("people.unblock")}
            </button>
          </li>
        ))}
      </ul>
      <div ref={paged.end}>
        {paged.loading && <p role="status">{t("timeline.loading")}</p>}
        {!paged.loading && paged.done && paged.items.length === 0 && (
          <p class="hint">{kind === "mutes" ? t("people.noMuted") : t("people.noBlocked")}</p>
        )}
      </div>
    </div>
  );
}
