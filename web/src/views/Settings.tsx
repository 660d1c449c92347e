/**
 * Settings and data rights: language; then, signed in, the profile, For You (mode, labels, what it
 * stores, reset), muted and blocked accounts, the person's data (where it lives, download, erase), sign-out.
 */
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";

import { signOut } from "../api/session";
import { errorText } from "../components/ErrorNotice";
import { closeLive } from "../components/liveNotifications";
import { useMe } from "../components/me";
import { chooseLanguage, chosenLanguage, type Language, LANGUAGES, useT } from "../i18n";
import { DataSettings } from "./settings/DataSettings";
import { FeedSettings } from "./settings/FeedSettings";
import { PeopleSettings } from "./settings/PeopleSettings";
import { ProfileSettings } from "./settings/ProfileSettings";

function LanguageChoice() {
  const t = useT();
  const [language, setLanguage] = useState<Language | "">(chosenLanguage() ?? "");
  return (
    <section class="form card" aria-labelledby="settings-language-title">
      <h2 id="settings-language-title" class="section-title">{t("settings.language")}</h2>
      <label for="settings-language" class="visually-hidden">{t("settings.language")}</label>
      <select id="settings-language" class="input select" value={language}
              onChange={(e) => {
                const value = e.currentTarget.value as Language | "";
                setLanguage(value);
                void chooseLanguage(value || null);
              }}>
        <option value="">{t("settings.browserLanguage")}</option>
        {Object.entries(LANGUAGES).map(([code, name]) => <option key={code} value={code} lang={code}>{name}</option>)}
      </select>
    </section>
  );
}

function Contents() {
  const t = useT();
  const places: [string, string][] = [
    ["#profile", t("profileSettings.title")], ["#for-you", t("feedSettings.title")], ["#signals", t("signals.title")],
    ["#people", t("people.title")], ["#data", t("dataRights.title")], ["#account", t("settings.account")],
  ];
  return (
    <nav aria-label={t("settings.contents")} class="contents">
      <ul>{places.map(([href, label]) => <li key={href}><a href={href}>{label}</a></li>)}</ul>
    </nav>
  );
}

export function Settings() {
  const t = useT();
  const me = useMe();
  const { route } = useLocation();
  const [problem, setProblem] = useState<string | null>(null);
  const [erased, setErased] = useState(false);

  async function leave() {
    setProblem(null);
    try {
      await closeLive();
      await signOut();
      route("/", true);
    } catch (error) {
      setProblem(t("settings.signOutFailed", { message: errorText(error) }));
    }
  }

  return (
    <div class="column narrow">
      <h1 class="page-title">{t("settings.title")}</h1>
      {erased && <p class="notice" role="status">{t("dataRights.erased")}</p>}
      {me && <Contents />}
      <LanguageChoice />
      {me === undefined && <p role="status">{t("timeline.loading")}</p>}
      {me && (
        <>
          <ProfileSettings key={me.id} me={me} />
          <FeedSettings />
          <PeopleSettings />
          <DataSettings me={me} onErased={() => setErased(true)} />
          <section id="account" aria-labelledby="account-title" class="card">
            <h2 id="account-title" class="section-title">{t("settings.account")}</h2>
            <button type="button" class="button" onClick={leave}>{t("nav.signOut")}</button>
            {problem && <p class="notice notice-error" role="alert">{problem}</p>}
          </section>
        </>
      )}
    </div>
  );
}
