/** Sign in: hand over to the server's own sign-in page (OAuth, code + PKCE). */
import { useState } from "preact/hooks";

import { signInUrl } from "../api/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { useT } from "../i18n";

export function SignIn({ returnTo = "/" }: { returnTo?: string }) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function start() {
    setBusy(true);
    setError(null);
    try {
      location.assign(await signInUrl(returnTo)); // a full page: the password is typed on the server's page
    } catch (problem) {
      setError(problem);
      setBusy(false);
    }
  }

  return (
    <div class="column narrow">
      <h1 class="page-title">{t("signIn.title")}</h1>
      <p>{t("signIn.lead")}</p>
      <p><button type="button" class="button button-primary" onClick={start} disabled={busy}>{t("signIn.continue")}</button></p>
      {error ? <ErrorNotice error={error} onRetry={start} /> : null}
      <p>{t("signIn.noAccount")} <a href="/sign-up">{t("nav.signUp")}</a></p>
    </div>
  );
}
