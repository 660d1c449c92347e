/** Explore, for now: a way into search, and this server's public posts, newest first (trends come later). */
import { useMemo, useState } from "preact/hooks";
import { useLocation } from "preact-iso";

import { masto } from "../api/mastodon";
import { Timeline } from "../components/Timeline";
import { useT } from "../i18n";

/** On phones Search has no place on the bottom bar: it starts here. */
function SearchBox() {
  const t = useT();
  const { route } = useLocation();
  const [q, setQ] = useState("");
  return (
    <form role="search" class="search-form" onSubmit={(event) => {
      event.preventDefault();
      route(`/search?${new URLSearchParams({ q: q.trim() })}`);
    }}>
      <label for="explore-search" class="visually-hidden">{t("search.label")}</label>
      <input id="explore-search" class="input" type="search" value={q} enterKeyHint="search"
             placeholder={t("search.placeholder")} onInput={(event) => setQ(event.currentTarget.value)} />
    </form>
  );
}

export function Explore() {
  const t = useT();
  const pages = useMemo(() => () => masto().v1.timelines.public.list({ local: true, limit: 20 }).values(), []);
  return (
    <div class="column">
      <h1 class="page-title">{t("nav.explore")}</h1>
      <SearchBox />
      <Timeline pages={pages} label={t("nav.explore")} />
    </div>
  );
}
