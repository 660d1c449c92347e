/** The person's public profile: name, bio, whether followers need approval, avatar and header images. */
import type { mastodon } from "masto";
import { useState } from "preact/hooks";

import type { Account } from "../../api/mastodon";
import { camelKeys } from "../../api/stoa";
import { sendForm } from "../../api/transfer";
import { errorText } from "../../components/ErrorNotice";
import { replaceMe } from "../../components/me";
import { useT } from "../../i18n";

const PROFILE = "/api/v1/accounts/update_credentials";

async function saveProfile(form: FormData, onProgress: (fraction: number | null) => void): Promise<Account> {
  const account = camelKeys<Account>(await sendForm<unknown>("PATCH", PROFILE, form, onProgress));
  replaceMe(account);
  return account;
}

export function ProfileSettings({ me }: { me: Account }) {
  const t = useT();
  const [displayName, setDisplayName] = useState(me.displayName);
  // The bio as typed (the account's `note` is its HTML): signed in, the account is the credential one.
  const [note, setNote] = useState((me as Partial<mastodon.v1.AccountCredentials>).source?.note ?? "");
  const [locked, setLocked] = useState(me.locked);
  const [saving, setSaving] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    setSaving(true);
    setOutcome(null);
    const form = new FormData();
    form.set("display_name", displayName);
    form.set("note", note);
    form.set("locked", String(locked));
    try {
      await saveProfile(form, () => undefined);
      setOutcome({ ok: true, text: t("profileSettings.saved") });
    } catch (error) {
      setOutcome({ ok: false, text: errorText(error) });
    } finally {
      setSaving(false);
    }
  }

  return (
    <section id="profile" aria-labelledby="profile-title" class="card">
      <h2 id="profile-title" class="section-title">{t("profileSettings.title")}</h2>
      <form class="form" onSubmit={save}>
        <label for="profile-name">{t("profileSettings.displayName")}</label>
        <input id="profile-name" class="input" value={displayName} maxLength={200}
               onInput={(e) => setDisplayName(e.currentTarget.value)} />
        <label for="profile-note">{t("profileSettings.note")}</label>
        <textarea id="profile-note" class="input" value={note} maxLength={1000}
                  onInput={(e) => setNote(e.currentTarget.value)} />
        <label class="check">
          <input type="checkbox" checked={locked} onChange={(e) => setLocked(e.currentTarget.checked)} />
          {t("profileSettings.locked")}
        </label>
        <p class="hint">{t("profileSettings.lockedHint")}</p>
        <button type="submit" class="button button-primary" disabled={saving}>
          {saving ? t("profileSettings.saving") : t("profileSettings.save")}
        </button>
        {outcome && <p class={outcome.ok ? "notice" : "notice notice-error"} role={outcome.ok ? "status" : "alert"}>
          {outcome.text}</p>}
      </form>
      <ImageField kind="avatar" current={me.avatarStatic || me.avatar} />
      <ImageField kind="header" current={me.headerStatic || me.header} />
    </section>
  );
}

function ImageField({ kind, current }: { kind: "avatar" | "header"; current: string }) {
  const t = useT();
  const [shown, setShown] = useState(current);
  const [progress, setProgress] = useState<number | null | undefined>(undefined); // undefined: not uploading
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const id = `profile-${kind}`;

  async function upload(file: File | undefined) {
    if (!file) return;
    setOutcome(null);
    setProgress(0);
    const form = new FormData();
    form.set(kind, file);
    try {
      const account = await saveProfile(form, setProgress);
      setShown(kind === "avatar" ? account.avatarStatic || account.avatar : account.headerStatic || account.header);
      setOutcome({ ok: true, text: t("profileSettings.uploaded") });
    } catch (error) {
      setOutcome({ ok: false, text: errorText(error) });
    } finally {
      setProgress(undefined);
    }
  }

  const missing = !shown || shown.endsWith("/missing.png");
  return (
    <div class={`image-field image-${kind}`}>
      <label for={id}>{kind === "avatar" ? t("profileSettings.avatar") : t("profileSettings.header")}</label>
      {!missing && <img src={shown} alt="" class={kind === "avatar" ? "avatar" : "header-preview"}
                        width={kind === "avatar" ? 80 : undefined} height={80} />}
      <input id={id} type="file" accept="image/png,image/jpeg,image/webp,image/gif" disabled={progress !== undefined}
             onChange={(e) => void upload(e.currentTarget.files?.[0])} />
      {progress !== undefined && (
        <progress max={1} value={progress ?? undefined} aria-label={t("profileSettings.uploading")} />
      )}
      {outcome && <p class={outcome.ok ? "hint" : "notice notice-error"} role={outcome.ok ? "status" : "alert"}>
        {outcome.text}</p>}
    </div>
  );
}
