/** A column of posts, newest first, that loads the next page as its end scrolls into view. */
import type { Status } from "../api/mastodon";
import { useT } from "../i18n";
import { ErrorNotice } from "./ErrorNotice";
import { type Pages as PagesOf, usePaged } from "./paging";
import { StatusCard } from "./StatusCard";

/** Each call of `next()` answers one page (masto.js follows the `Link` header); done after the last. */
export type Pages = PagesOf<Status>;

interface Props {
  pages: Pages;
  label: string;
  empty?: string;
  /** Posts added here (just posted) appear on top at once. */
  prepend?: Status[];
}

export function Timeline({ pages, label, empty, prepend = [] }: Props) {
  const t = useT();
  const { items: statuses, loading, done, error, loadMore, end } = usePaged<Status>(pages);

  const shownIds = new Set(prepend.map((s) => s.id));
  const all = [...prepend, ...statuses.filter((s) => !shownIds.has(s.id))];
  return (
    <section class="timeline" aria-label={label} aria-busy={loading}>
      {all.map((status) => <StatusCard key={status.id} status={status} />)}
      {error ? <ErrorNotice error={error} onRetry={() => void loadMore()} /> : null}
      <div ref={end} class="timeline-end">
        {loading && <p role="status">{t("timeline.loading")}</p>}
        {!loading && done && <p>{all.length ? t("timeline.end") : (empty ?? t("timeline.empty"))}</p>}
        {!loading && !done && !error && all.length > 0 && (
          <button type="button" class="button" onClick={() => void loadMore()}>{t("timeline.loadMore")}</button>
        )}
      </div>
    </section>
  );
}
