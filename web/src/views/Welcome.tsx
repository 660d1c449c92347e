/** Signed out: what this place is, the way in, and what is being said here now. */
import { useEffect, useMemo, useState } from "preact/hooks";

import { masto } from "../api/mastodon";
import { Timeline } from "../components/Timeline";
import { useT } from "../i18n";

export function Welcome() {
  const t = useT();
  const [title, setTitle] = useState("Stoa");
  useEffect(() => {
    masto().v2.instance.fetch().then((instance) => setTitle(instance.title), () => undefined);
  }, []);
  const pages = useMemo(() => () => masto().v1.timelines.public.list({ local: true, limit: 20 }).values(), []);
  return (
    <div class="column">
      <section class="welcome">
        <h1>{t("welcome.title", { name: title })}</h1>
        <p>{t("welcome.lead")}</p>
        <p class="actions">
          <a class="button button-primary" href="/sign-up">{t("nav.signUp")}</a>
          <a class="button" href="/sign-in">{t("nav.signIn")}</a>
        </p>
      </section>
      <h2 class="section-title">{t("welcome.latest")}</h2>
      <Timeline pages={pages} label={t("welcome.latest")} />
    </div>
  );
}
