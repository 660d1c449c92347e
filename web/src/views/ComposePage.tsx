/** The composer on a page of its own (the phone's "new post" button). */
import { useLocation } from "preact-iso";

import { Compose } from "../components/Compose";
import { useSignedIn } from "../components/me";
import { useT } from "../i18n";
import { SignIn } from "./SignIn";

export function ComposePage() {
  const t = useT();
  const { route } = useLocation();
  if (!useSignedIn()) return <SignIn returnTo="/compose" />;
  return (
    <div class="column">
      <h1 class="page-title">{t("compose.title")}</h1>
      <Compose autoFocus onPosted={() => route("/")} />
    </div>
  );
}
