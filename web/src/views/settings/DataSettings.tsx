/** Data rights: where the data lives, download all of it, erase the account (password asked again). */
import { useState } from "preact/hooks";

import { eraseAccount, exportData, saveFile } from "../../api/accountData";
import type { Account } from "../../api/mastodon";
import { signOut } from "../../api/session";
import { homeRegion } from "../../api/transparency";
import { errorText } from "../../components/ErrorNotice";
import { closeLive } from "../../components/liveNotifications";
import { useT } from "../../i18n";

export function DataSettings({ me, onErased }: { me: Account; onErased: () => void }) {
  const t = useT();
  const region = homeRegion(me);
  return (
    <section id="data" aria-labelledby="data-title" class="card">
      <h2 id="data-title" class="section-title">{t("dataRights.title")}</h2>
      <h3 class="subsection-title">{t("dataRights.whereTitle")}</h3>
      <p data-region={region ?? ""}>
        {region ? t("dataRights.where", { region, domain: location.host }) : t("dataRights.whereUnknown")}
      </p>
      <p><a href="/transparency">{t("dataRights.logLink")}</a></p>
      <Download />
      <Erase onErased={onErased} />
    </section>
  );
}

function Download() {
  const t = useT();
  const [password, setPassword] = useState("");
  const [progress, setProgress] = useState<number | null | undefined>(undefined);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);

  async function start(event: Event) {
    event.preventDefault();
    setOutcome(null);
    setProgress(null);
    try {
      const { blob, filename } = await exportData(password, setProgress);
      saveFile(blob, filename);
      setPassword("");
      setOutcome({ ok: true, text: t("dataRights.downloaded", { filename }) });
    } catch (error) {
      setOutcome({ ok: false, text: errorText(error) });
    } finally {
      setProgress(undefined);
    }
  }

  return (
    <form class="form" onSubmit={start} aria-labelledby="export-title">
      <h3 id="export-title" class="subsection-title">{t("dataRights.exportTitle")}</h3>
      <p>{t("dataRights.exportLead")}</p>
      <label for="export-password">{t("dataRights.password")}</label>
      <input id="export-password" class="input" type="password" autoComplete="current-password" required
             value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <button type="submit" class="button button-primary" disabled={progress !== undefined || !password}>
        {progress !== undefined ? t("dataRights.preparing") : t("dataRights.export")}
      </button>
      {progress !== undefined && (
        <progress max={1} value={progress ?? undefined} aria-label={t("dataRights.preparing")} />
      )}
      {outcome && <p class={outcome.ok ? "notice" : "notice notice-error"} role={outcome.ok ? "status" : "alert"}>
        {outcome.text}</p>}
    </form>
  );
}

function Erase({ onErased }: { onErased: () => void }) {
  const t = useT();
  const [password, setPassword] = useState("");
  const [understood, setUnderstood] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function erase(event: Event) {
    event.preventDefault();
    setProblem(null);
    setBusy(true);
    const reopen = await closeLive();
    try {
      await eraseAccount(password);
    } catch (error) {
      reopen();
      setProblem(errorText(error));
      setBusy(false);
      return;
    }
    // The server has already ended every session of the account; forgetting the token here is what is left.
    await signOut().catch(() => undefined);
    onErased();
  }

  return (
    <form class="form danger-zone" onSubmit={erase} aria-labelledby="erase-title">
      <h3 id="erase-title" class="subsection-title">{t("dataRights.eraseTitle")}</h3>
      <p>{t("dataRights.eraseLead")}</p>
      <label for="erase-password">{t("dataRights.password")}</label>
      <input id="erase-password" class="input" type="password" autoComplete="current-password" required
             value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <label class="check">
        <input type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.currentTarget.checked)} />
        {t("dataRights.understand")}
      </label>
      <button type="submit" class="button button-danger" disabled={busy || !understood || !password}>
        {busy ? t("dataRights.erasing") : t("dataRights.erase")}
      </button>
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
    </form>
  );
}
