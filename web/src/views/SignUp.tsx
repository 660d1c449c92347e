/** Create an account through the Mastodon API (an app token, then POST /api/v1/accounts). */
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";

import { signUp } from "../api/session";
import { errorText } from "../components/ErrorNotice";
import { currentLanguage, useT } from "../i18n";

export function SignUp() {
  const t = useT();
  const { route } = useLocation();
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [agreement, setAgreement] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await signUp({ username, email, password, agreement, locale: currentLanguage() });
      route("/", true);
    } catch (error) {
      setProblem(errorText(error));
      setBusy(false);
    }
  }

  return (
    <div class="column narrow">
      <h1 class="page-title">{t("signUp.title")}</h1>
      <form class="form" onSubmit={submit}>
        <label for="sign-up-username">{t("signUp.username")}</label>
        <input id="sign-up-username" class="input" name="username" autocomplete="username" required
               pattern="[A-Za-z0-9_]{1,30}" maxLength={30} aria-describedby="sign-up-username-hint" value={username}
               onInput={(e) => setUsername(e.currentTarget.value)} />
        <p id="sign-up-username-hint" class="hint">{t("signUp.usernameHint")}</p>
        <label for="sign-up-email">{t("signUp.email")}</label>
        <input id="sign-up-email" class="input" name="email" type="email" autocomplete="email" required value={email}
               onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="sign-up-password">{t("signUp.password")}</label>
        <input id="sign-up-password" class="input" name="password" type="password" autocomplete="new-password"
               required minLength={8} aria-describedby="sign-up-password-hint" value={password}
               onInput={(e) => setPassword(e.currentTarget.value)} />
        <p id="sign-up-password-hint" class="hint">{t("signUp.passwordHint")}</p>
        <label class="check">
          <input type="checkbox" name="agreement" required checked={agreement}
                 onChange={(e) => setAgreement(e.currentTarget.checked)} />
          {t("signUp.agreement")}
        </label>
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? t("signUp.creating") : t("signUp.submit")}
        </button>
        {problem && <p class="notice notice-error" role="alert">{problem}</p>}
      </form>
      <p>{t("signUp.haveAccount")} <a href="/sign-in">{t("nav.signIn")}</a></p>
    </div>
  );
}
