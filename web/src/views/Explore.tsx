/** Explore, for now: this server's public posts, newest first (trends and suggestions come later). */
import { useMemo } from "preact/hooks";

import { masto } from "../api/mastodon";
import { Timeline } from "../components/Timeline";
import { useT } from "../i18n";

export function Explore() {
  const t = useT();
  const pages = useMemo(() => () => masto().v1.timelines.public.list({ local: true, limit: 20 }).values(), []);
  return (
    <div class="column">
      <h1 class="page-title">{t("nav.explore")}</h1>
      <Timeline pages={pages} label={t("nav.explore")} />
    </div>
  );
}
