/** A place the app will have, said honestly while it is not built. */
import { useT } from "../i18n";

export function NotBuilt({ what }: { what: string }) {
  const t = useT();
  return (
    <div class="column narrow">
      <h1 class="page-title">{t("notBuilt.title", { what })}</h1>
      <p>{t("notBuilt.lead")}</p>
    </div>
  );
}
