/** A hashtag's public posts, newest first. */
import { useMemo } from "preact/hooks";
import { useRoute } from "preact-iso";

import { masto } from "../api/mastodon";
import { Timeline } from "../components/Timeline";
import { useT } from "../i18n";

export function Tag() {
  const t = useT();
  const tag = decodeURIComponent(useRoute().params.tag ?? "");
  const pages = useMemo(() => () => masto().v1.timelines.tag.$select(tag).list({ limit: 20 }).values(), [tag]);
  return (
    <div class="column">
      <h1 class="page-title">{t("tag.title", { tag })}</h1>
      <Timeline key={tag} pages={pages} label={t("tag.title", { tag })} />
    </div>
  );
}
