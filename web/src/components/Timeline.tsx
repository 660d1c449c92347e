/** A column of posts, newest first, that loads the next page as its end scrolls into view. */
import { useEffect, useRef, useState } from "preact/hooks";

import type { Status } from "../api/mastodon";
import { useT } from "../i18n";
import { ErrorNotice } from "./ErrorNotice";
import { StatusCard } from "./StatusCard";

/** Each call of `next()` answers one page (masto.js follows the `Link` header); done after the last. */
export type Pages = () => AsyncIterator<Status[], unknown>;

interface Props {
  pages: Pages;
  label: string;
  empty?: string;
  /** Posts added here (just posted) appear on top at once. */
  prepend?: Status[];
}

export function Timeline({ pages, label, empty, prepend = [] }: Props) {
  const t = useT();
  const [statuses, setStatuses] = useState<Status[]>([]);
  const [loading, setLoading] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const iterator = useRef<AsyncIterator<Status[], unknown> | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const busy = useRef(false);
  const finished = useRef(false);

  async function loadMore() {
    if (busy.current || finished.current) return;
    busy.current = true;
    setLoading(true);
    setError(null);
    try {
      iterator.current ??= pages();
      const page = await iterator.current.next();
      if (page.done || !page.value || page.value.length === 0) {
        finished.current = true;
        setDone(true);
      }
      if (!page.done && page.value) {
        const fresh = page.value;
        setStatuses((old) => {
          const seen = new Set(old.map((s) => s.id));
          return [...old, ...fresh.filter((s) => !seen.has(s.id))];
        });
      }
    } catch (problem) {
      iterator.current = null; // masto's iterator ends on an error: the next try starts again
      setError(problem);
    } finally {
      busy.current = false;
      setLoading(false);
    }
  }

  useEffect(() => {
    iterator.current = null;
    finished.current = false;
    setStatuses([]);
    setDone(false);
    void loadMore();
  }, [pages]);

  useEffect(() => {
    const sentinel = end.current;
    if (!sentinel || done || error) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadMore();
    }, { rootMargin: "800px 0px" });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [done, error, statuses.length]);

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
