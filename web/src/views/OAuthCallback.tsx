/** Where the server sends the browser back after sign-in: exchange the code, then go on. */
import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";

import { finishSignIn } from "../api/session";
import { errorText } from "../components/ErrorNotice";
import { useT } from "../i18n";

export function OAuthCallback() {
  const t = useT();
  const { route } = useLocation();
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const query = new URLSearchParams(location.search);
    const refused = query.get("error_description") ?? query.get("error");
    if (refused) {
      setProblem(refused);
      return;
    }
    finishSignIn(query).then((next) => route(next, true), (error) => setProblem(errorText(error)));
  }, []);

  return (
    <div class="column narrow">
      <h1 class="page-title">{t("signIn.title")}</h1>
      {problem ? (
        <div class="notice notice-error" role="alert">
          <p>{t("signIn.failed", { message: problem })}</p>
          <a class="button" href="/sign-in">{t("signIn.again")}</a>
        </div>
      ) : <p role="status">{t("signIn.finishing")}</p>}
    </div>
  );
}
