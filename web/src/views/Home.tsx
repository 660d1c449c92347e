/** Home: Following, newest first, with the composer on top; signed out, the welcome page. */
import { useMemo, useState } from "preact/hooks";

import { masto, type Status } from "../api/mastodon";
import { Compose } from "../components/Compose";
import { FeedTabs } from "../components/FeedTabs";
import { useSignedIn } from "../components/me";
import { Timeline } from "../components/Timeline";
import { useT } from "../i18n";
import { Welcome } from "./Welcome";

export function Home() {
  const t = useT();
  const signedIn = useSignedIn();
  const [posted, setPosted] = useState<Status[]>([]);
  const pages = useMemo(() => () => masto().v1.timelines.home.list({ limit: 20 }).values(), [signedIn]);
  if (!signedIn) return <Welcome />;
  return (
    <div class="column">
      <h1 class="visually-hidden">{t("nav.home")}</h1>
      <FeedTabs current="following" />
      <Compose onPosted={(status) => setPosted((old) => [status, ...old])} />
      <Timeline pages={pages} label={t("feeds.following")} empty={t("timeline.homeEmpty")} prepend={posted} />
    </div>
  );
}
