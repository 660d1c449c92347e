import { useT } from "../i18n";

export function NotFound() {
  const t = useT();
  return (
    <div class="column narrow">
      <h1 class="page-title">{t("notFound.title")}</h1>
      <p>{t("notFound.lead")}</p>
      <p><a class="button" href="/">{t("notFound.home")}</a></p>
    </div>
  );
}
