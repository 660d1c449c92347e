/** The shell: skip link, navigation (a bottom bar on phones, a side column on wide screens), the routes. */
import { LocationProvider, Route, Router, useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";

import { useMe } from "./components/me";
import { useT } from "./i18n";
import { profilePath } from "./routes";
import { ComposePage } from "./views/ComposePage";
import { Explore } from "./views/Explore";
import { ForYou } from "./views/ForYou";
import { Home } from "./views/Home";
import { NotBuilt } from "./views/NotBuilt";
import { NotFound } from "./views/NotFound";
import { OAuthCallback } from "./views/OAuthCallback";
import { Profile } from "./views/Profile";
import { Settings } from "./views/Settings";
import { SignIn } from "./views/SignIn";
import { SignUp } from "./views/SignUp";
import { StatusPage } from "./views/StatusPage";
import { Tag } from "./views/Tag";

/** Links to server paths (the API, OAuth, media files) are left to the browser: they are not app pages. */
const APP_LINKS = /^\/(?!api\/|oauth\/|media\/|static\/|assets\/|\.well-known\/|metrics|health)/;

interface NavLinkProps {
  href: string;
  icon: string;
  label: string;
  /** Not on the phone's bottom bar, which has room for six. */
  wideOnly?: boolean;
}

function NavLink({ href, icon, label, wideOnly = false }: NavLinkProps) {
  const { path } = useLocation();
  const current = href === "/" ? path === "/" : path === href || path.startsWith(`${href}/`);
  return (
    <a href={href} class={wideOnly ? "nav-link wide-only" : "nav-link"} aria-current={current ? "page" : undefined}>
      <span class="nav-icon" aria-hidden="true">{icon}</span>
      <span class="nav-label">{label}</span>
    </a>
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
      {me && <NavLink href="/notifications" icon="◔" label={t("nav.notifications")} wideOnly />}
      {me ? <NavLink href={profilePath(me.acct)} icon="☺" label={t("nav.profile")} />
        : <NavLink href="/sign-in" icon="→" label={t("nav.signIn")} />}
      <NavLink href="/settings" icon="⚙" label={t("nav.settings")} />
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

const Notifications = () => <NotBuilt what={useT()("nav.notifications")} />;
const Messages = () => <NotBuilt what={useT()("nav.messages")} />;
const Search = () => <NotBuilt what={useT()("nav.search")} />;
const Transparency = () => <NotBuilt what={useT()("nav.transparency")} />;

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
