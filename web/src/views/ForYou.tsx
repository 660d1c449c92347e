/**
 * For You: one post a screen, moved through by scrolling, swiping, j/k or the arrow keys; each post can
 * say why it is here. Time on screen is reported, so the feed learns from what is watched, not only liked.
 */
import { useEffect, useRef, useState } from "preact/hooks";

import type { Status } from "../api/mastodon";
import { forYou, type ForYouMode, recordView } from "../api/stoa";
import { ErrorNotice } from "../components/ErrorNotice";
import { Explain } from "../components/Explain";
import { FeedTabs } from "../components/FeedTabs";
import { ItemActions } from "../components/ItemActions";
import { isVideo, PhotoStage, prefersReducedMotion, VideoStage } from "../components/Media";
import { useSignedIn } from "../components/me";
import { isSoundOn, preloadFor, setSoundOn, WatchClock } from "../components/playback";
import { StatusCard } from "../components/StatusCard";
import { useT } from "../i18n";
import { SignIn } from "./SignIn";

const MODE_KEY = "stoa.forYouMode";
const SKIP_MS = 1000; // gone in under a second: a skip
const RESUMES = 3; // a j/k scroll snapped back this many times still gets where it was sent

function savedMode(): ForYouMode {
  try {
    return localStorage.getItem(MODE_KEY) === "none" ? "none" : "personalised";
  } catch {
    return "personalised";
  }
}

function typingIn(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

export function ForYou() {
  const signedIn = useSignedIn();
  return signedIn ? <Feed /> : <SignIn returnTo="/for-you" />;
}

function Feed() {
  const t = useT();
  const [mode, setMode] = useState<ForYouMode>(savedMode);
  const [items, setItems] = useState<Status[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [finished, setFinished] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(true);
  const [current, setCurrent] = useState(0);
  const [explaining, setExplaining] = useState<Status | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const loading = useRef(false);
  const shownAt = useRef<{ id: string; since: number } | null>(null);
  const clocks = useRef(new Map<string, WatchClock>());

  async function load(reset: boolean) {
    if (loading.current) return;
    loading.current = true;
    setBusy(true);
    setError(null);
    try {
      const page = await forYou(mode, reset ? null : next);
      setItems((old) => {
        const base = reset ? [] : old;
        const seen = new Set(base.map((s) => s.id));
        return [...base, ...page.items.filter((s) => !seen.has(s.id))];
      });
      setNext(page.next);
      setFinished(page.next === null);
    } catch (problem) {
      setError(problem);
    } finally {
      loading.current = false;
      setBusy(false);
    }
  }

  useEffect(() => {
    setItems([]);
    setCurrent(0);
    setFinished(false);
    void load(true);
    scroller.current?.scrollTo({ top: 0 });
  }, [mode]);

  // Near the end: fetch more before the person gets there.
  useEffect(() => {
    if (!finished && items.length > 0 && current >= items.length - 3) void load(false);
  }, [current, items.length, finished]);

  // Which post fills the screen: the one the scroll position is nearest to (each is one screen high).
  // While j/k's smooth scroll is on its way, the posts it passes over are not "shown".
  const heading = useRef<number | null>(null);
  const resumed = useRef(0);
  function settle(ended: boolean) {
    const root = scroller.current;
    if (!root || root.clientHeight === 0 || items.length === 0) return;
    const index = Math.min(items.length - 1, Math.round(root.scrollTop / root.clientHeight));
    if (heading.current !== null && index !== heading.current) {
      if (!ended) return;
      // The scroll ended short of where j/k sent it: a layout change on the way (a page of posts
      // arriving, a player or an author's follow state loading) makes the browser snap back to the post
      // it started from. Go the rest at once, a few times at most.
      if (resumed.current < RESUMES) {
        resumed.current += 1;
        root.scrollTo({ top: heading.current * root.clientHeight, behavior: "instant" });
        return;
      }
    }
    heading.current = null;
    resumed.current = 0;
    setCurrent(index);
  }
  const settleRef = useRef(settle);
  settleRef.current = settle;
  useEffect(() => {
    const root = scroller.current;
    const ended = () => settleRef.current(true);
    root?.addEventListener("scrollend", ended);
    return () => root?.removeEventListener("scrollend", ended);
  }, []);

  function clockFor(id: string): WatchClock {
    let clock = clocks.current.get(id);
    if (!clock) clocks.current.set(id, (clock = new WatchClock()));
    return clock;
  }

  // A post was on screen until now: report for how long, or for a video how long it really played.
  function report(shown: { id: string; since: number }) {
    const onScreen = performance.now() - shown.since;
    const status = items.find((s) => s.id === shown.id);
    const played = status && (status.reblog ?? status).mediaAttachments.some(isVideo) ? clocks.current.get(shown.id) : undefined;
    played?.stopped();
    void recordView(shown.id, played ? played.watchedMs : onScreen, onScreen < SKIP_MS).catch(() => undefined);
    clocks.current.delete(shown.id);
  }

  // Report the previous post when another one replaces it.
  useEffect(() => {
    const shown = items[current];
    const previous = shownAt.current;
    if (previous && previous.id !== shown?.id) report(previous);
    if (!previous || previous.id !== shown?.id) shownAt.current = shown ? { id: shown.id, since: performance.now() } : null;
  }, [current, items]);

  // Leaving For You: the post on screen was watched until now.
  useEffect(() => () => {
    if (shownAt.current) report(shownAt.current);
  }, []);

  function go(step: number) {
    const index = Math.max(0, Math.min(items.length - 1, (heading.current ?? current) + step));
    const target = scroller.current?.querySelector<HTMLElement>(`[data-index="${index}"]`);
    if (!target || index === (heading.current ?? current)) return;
    heading.current = index;
    resumed.current = 0;
    target.scrollIntoView({ behavior: prefersReducedMotion() ? "auto" : "smooth", block: "start" });
    target.focus({ preventScroll: true });
  }

  // The listener stays; what it calls is this render's, so a key pressed just after a page arrives moves.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => undefined);
  onKey.current = (event: KeyboardEvent) => {
    // An open dialog has the keys (asked of the page, not of state: a dialog closes natively before its
    // close event reaches the state, and a key pressed in between must still move the feed).
    if (dialogOpen() || typingIn(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j" || event.key === "ArrowDown") {
      event.preventDefault();
      go(1);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      event.preventDefault();
      go(-1);
    } else if (event.key === "m") {
      setSoundOn(!isSoundOn());
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  function chooseMode(value: ForYouMode) {
    try {
      localStorage.setItem(MODE_KEY, value);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
    setMode(value);
  }

  return (
    <div class="for-you">
      <h1 class="visually-hidden">{t("forYou.title")}</h1>
      <div class="for-you-bar">
        <FeedTabs current="for-you" />
        <fieldset class="mode-switch">
          <legend class="visually-hidden">{t("forYou.mode")}</legend>
          {(["personalised", "none"] as const).map((value) => (
            <label key={value} class={mode === value ? "chip chip-on" : "chip"}>
              <input type="radio" name="for-you-mode" value={value} checked={mode === value}
                     onChange={() => chooseMode(value)} />
              {t(`forYou.${value}`)}
            </label>
          ))}
        </fieldset>
      </div>
      <p class="visually-hidden">{t("forYou.keys")}</p>
      <div class="for-you-scroller" ref={scroller} aria-busy={busy} onScroll={() => settle(false)}>
        {busy && items.length === 0 && <div class="for-you-item"><p role="status">{t("timeline.loading")}</p></div>}
        {items.map((status, index) => (
          <Item key={status.id} status={status} index={index} current={current} clock={clockFor(status.id)}
                onExplain={setExplaining} />
        ))}
        {error ? <div class="for-you-item"><ErrorNotice error={error} onRetry={() => void load(items.length === 0)} /></div> : null}
        {finished && items.length === 0 && !error && <div class="for-you-item"><p>{t("forYou.empty")}</p></div>}
      </div>
      <div class="for-you-steps">
        <button type="button" class="button round" onClick={() => go(-1)} disabled={current === 0}
                aria-label={t("forYou.previous")}><span aria-hidden="true">↑</span></button>
        <button type="button" class="button round" onClick={() => go(1)} disabled={current >= items.length - 1}
                aria-label={t("forYou.next")}><span aria-hidden="true">↓</span></button>
      </div>
      {explaining && <Explain status={explaining} mode={mode} onClose={() => setExplaining(null)} />}
    </div>
  );
}

interface ItemProps {
  status: Status;
  index: number;
  current: number;
  clock: WatchClock;
  onExplain: (status: Status) => void;
}

/** One screen of For You: a video or photos filling it with the post over them, or the post's text. */
function Item({ status: given, index, current, clock, onExplain }: ItemProps) {
  const t = useT();
  const [status, setStatus] = useState<Status>(given.reblog ?? given);
  const media = status.mediaAttachments;
  const video = media.find(isVideo);
  const photos = media.some((a) => a.type === "image");
  const hidden = status.sensitive || status.spoilerText.length > 0;
  const [revealed, setRevealed] = useState(!hidden);
  const preload = preloadFor(index, current);
  const staged = (video || photos) && revealed;
  return (
    <section class={staged ? "for-you-item for-you-media" : "for-you-item"} data-index={index} data-id={status.id}
             tabIndex={-1}
             aria-label={t("forYou.position", { position: index + 1 })}>
      <div class="for-you-card">
        {staged && video && <VideoStage attachment={video} preload={preload} clock={clock} />}
        {staged && !video && <PhotoStage attachments={media} eager={preload === "auto"} />}
        {(video || photos) && !revealed && (
          <button type="button" class="button stage-reveal" onClick={() => setRevealed(true)}>
            {t("player.reveal")}
          </button>
        )}
        <div class="for-you-post">
          <StatusCard status={given} bare />
        </div>
      </div>
      <ItemActions status={status} near={preload === "auto"} onChange={setStatus} onExplain={() => onExplain(status)} />
    </section>
  );
}

function dialogOpen(): boolean {
  return document.querySelector("dialog[open]") !== null;
}
