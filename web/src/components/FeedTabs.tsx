/** Following and For You, side by side: two ways of reading, one switch. */
import { useT } from "../i18n";

export function FeedTabs({ current }: { current: "following" | "for-you" }) {
  const t = useT();
  return (
    <nav class="feed-tabs" aria-label={t("feeds.tabs")}>
      <a href="/" aria-current={current === "following" ? "page" : undefined}>{t("feeds.following")}</a>
      <a href="/for-you" aria-current={current === "for-you" ? "page" : undefined}>{t("feeds.forYou")}</a>
    </nav>
  );
}
