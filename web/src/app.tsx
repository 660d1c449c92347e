/** The shell: skip link, navigation (a bottom bar on phones, a side column on wide screens), the routes. */
import { LocationProvider, Route, Router, useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";

import { useLive } from "./components/liveNotifications";
import { useMe } from "./components/me";
import { useT } from "./i18n";
import { profilePath } from "./routes";
import { ComposePage } from "./views/ComposePage";
import { Explore } from "./views/Explore";
import { ForYou } from "./views/ForYou";
import { Home } from "./views/Home";
import { NotBuilt } from "./views/NotBuilt";
import { NotFound } from "./views/NotFound";
import { Notifications } from "./views/Notifications";
import { OAuthCallback } from "./views/OAuthCallback";
import { Profile } from "./views/Profile";
import { Search } from "./views/Search";
import { Settings } from "./views/Settings";
import { SignIn } from "./views/SignIn";
import { SignUp } from "./views/SignUp";
import { StatusPage } from "./views/StatusPage";
import { Tag } from "./views/Tag";
import { Transparency } from "./views/Transparency";

/** Links to server paths (the API, OAuth, media files) are left to the browser: they are not app pages. */
const APP_LINKS = /^\/(?!api\/|oauth\/|media\/|static\/|assets\/|\.well-known\/|metrics|health)/;

interface NavLinkProps {
  href: string;
  icon: string;
  label: string;
  /** Not on the phone's bottom bar, which has room for seven. */
  wideOnly?: boolean;
  /** A count shown on the icon (unread notifications); its words describe the link. */
  badge?: { count: number; words: string } | null;
  /** Shown instead of the label on the phone's bottom bar, where the label would not fit (and then it is the
   * link's name: what is read is what is seen). */
  short?: string;
}

function NavLink({ href, icon, label, wideOnly = false, badge = null, short }: NavLinkProps) {
  const { path } = useLocation();
  const current = href === "/" ? path === "/" : path === href || path.startsWith(`${href}/`);
  const unread = badge && badge.count > 0 ? badge : null;
  const described = `${href.slice(1)}-badge`;
  return (
    <a href={href} class={wideOnly ? "nav-link wide-only" : "nav-link"} aria-current={current ? "page" : undefined}
       aria-describedby={unread ? described : undefined}>
      <span class="nav-icon" aria-hidden="true">
        {icon}{unread && <span class="nav-badge">{unread.count > 40 ? "40+" : unread.count}</span>}
      </span>
      {short ? (
        <span class="nav-label">
          <span class="label-wide">{label}</span><span class="label-short">{short}</span>
        </span>
      ) : <span class="nav-label">{label}</span>}
      {unread && <span id={described} hidden>{unread.words}</span>}
    </a>
  );
}

function NotificationsLink() {
  const t = useT();
  const live = useLive();
  return (
    <NavLink href="/notifications" icon="◔" label={t("nav.notifications")} short={t("notifications.navShort")}
             badge={{ count: live.unread, words: t("notifications.unread", { count: live.unread }) }} />
  );
}

function Navigation() {
  const t = useT();
  const me = useMe();
  return (
    <nav class="nav" aria-label={t("nav.main")}>
      <a href="/" class="brand" aria-label="Stoa">
        <img src="/favicon.svg" alt="" width={28} height={28} /><span class="nav-label">Stoa</span>
      </a>
      <NavLink href="/" icon="⌂" label={t("nav.home")} />
      <NavLink href="/for-you" icon="▶" label={t("nav.forYou")} />
      <NavLink href="/explore" icon="◎" label={t("nav.explore")} />
      {me && <NavLink href="/compose" icon="✎" label={t("nav.compose")} />}
      {me && <NotificationsLink />}
      <NavLink href="/search" icon="⌕" label={t("nav.search")} wideOnly />
      {me ? <NavLink href={profilePath(me.acct)} icon="☺" label={t("nav.profile")} />
        : <NavLink href="/sign-in" icon="→" label={t("nav.signIn")} />}
      <NavLink href="/settings" icon="⚙" label={t("nav.settings")} />
      <NavLink href="/transparency" icon="◈" label={t("nav.transparency")} wideOnly />
    </nav>
  );
}

function OfflineBanner() {
  const t = useT();
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  return online ? null : <p class="offline" role="status">{t("app.offline")}</p>;
}

const Messages = () => <NotBuilt what={useT()("nav.messages")} />;

/** After a navigation: start at the top, and move focus to the new page for screen readers. */
function onRouteChange(): void {
  window.scrollTo(0, 0);
  document.getElementById("content")?.focus({ preventScroll: true });
}

export function App() {
  const t = useT();
  return (
    <LocationProvider scope={APP_LINKS}>
      <a class="skip-link" href="#content">{t("app.skipToContent")}</a>
      <div class="shell">
        <Navigation />
        <main id="content" tabIndex={-1}>
          <OfflineBanner />
          <Router onRouteChange={onRouteChange}>
            <Route path="/" component={Home} />
            <Route path="/for-you" component={ForYou} />
            <Route path="/explore" component={Explore} />
            <Route path="/compose" component={ComposePage} />
            <Route path="/tags/:tag" component={Tag} />
            <Route path="/sign-in" component={SignIn} />
            <Route path="/sign-up" component={SignUp} />
            <Route path="/oauth-callback" component={OAuthCallback} />
            <Route path="/settings" component={Settings} />
            <Route path="/notifications" component={Notifications} />
            <Route path="/messages" component={Messages} />
            <Route path="/search" component={Search} />
            <Route path="/transparency" component={Transparency} />
            <Route path="/:handle/:id" component={StatusPage} />
            <Route path="/:handle" component={Profile} />
            <Route default component={NotFound} />
          </Router>
        </main>
      </div>
    </LocationProvider>
  );
}
