/** Settings, for now: the language, and signing out. */
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";

import { signOut } from "../api/session";
import { errorText } from "../components/ErrorNotice";
import { useSignedIn } from "../components/me";
import { chooseLanguage, chosenLanguage, type Language, LANGUAGES, useT } from "../i18n";

export function Settings() {
  const t = useT();
  const signedIn = useSignedIn();
  const { route } = useLocation();
  const [language, setLanguage] = useState<Language | "">(chosenLanguage() ?? "");
  const [problem, setProblem] = useState<string | null>(null);

  async function leave() {
    setProblem(null);
    try {
      await signOut();
      route("/", true);
    } catch (error) {
      setProblem(t("settings.signOutFailed", { message: errorText(error) }));
    }
  }

  return (
    <div class="column narrow">
      <h1 class="page-title">{t("settings.title")}</h1>
      <section class="form">
        <label for="settings-language">{t("settings.language")}</label>
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
      {signedIn && (
        <section>
          <h2 class="section-title">{t("settings.account")}</h2>
          <button type="button" class="button" onClick={leave}>{t("nav.signOut")}</button>
          {problem && <p class="notice notice-error" role="alert">{problem}</p>}
        </section>
      )}
    </div>
  );
}
