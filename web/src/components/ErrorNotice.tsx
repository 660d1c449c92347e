/** An API failure in words, with a way forward. */
import { asApiError } from "../api/http";
import { t, useT } from "../i18n";

export function errorText(error: unknown): string {
  const { status, message } = asApiError(error);
  if (status === 0) return t("errors.network");
  if (status === 401) return t("errors.unauthorized");
  if (status === 403) return t("errors.forbidden", { message });
  if (status === 404) return t("errors.notFound");
  if (status === 429) return t("errors.rateLimited");
  if (status >= 500) return t("errors.server", { status });
  return t("errors.invalid", { message });
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  return (
    <div class="notice notice-error" role="alert">
      <p>{errorText(error)}</p>
      {asApiError(error).status === 401 ? (
        <a class="button" href="/sign-in">{t("nav.signIn")}</a>
      ) : onRetry ? (
        <button type="button" class="button" onClick={onRetry}>{t("errors.retry")}</button>
      ) : null}
    </div>
  );
}
