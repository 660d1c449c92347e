/**
 * Photos and videos: the blurred placeholder painted while they load, the grid of a timeline's post, and
 * For You's full-screen stage, where a video plays muted while its item is on screen, loops, shows its
 * progress and caption, and is unmuted with a tap (or `m`) for the rest of the session.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { mastodon } from "masto";

import { useT } from "../i18n";
import { decodeBlurhash, isBlurhash } from "./blurhash";
import { isSoundOn, onSoundChange, progressOf, setSoundOn, type WatchClock } from "./playback";

export type Attachment = mastodon.v1.MediaAttachment;
const PLACEHOLDER_SIZE = 32;

export function isVideo(attachment: Attachment): boolean {
  return attachment.type === "video" || attachment.type === "gifv";
}

export function prefersReducedMotion(): boolean {
  return window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
}

/** The blurhash, stretched behind the picture; nothing when the server sent none. */
export function Blurhash({ hash }: { hash: string | null | undefined }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext?.("2d");
    if (!context || !isBlurhash(hash)) return;
    const image = context.createImageData(PLACEHOLDER_SIZE, PLACEHOLDER_SIZE);
    image.data.set(decodeBlurhash(hash, PLACEHOLDER_SIZE, PLACEHOLDER_SIZE));
    context.putImageData(image, 0, 0);
  }, [hash]);
  if (!isBlurhash(hash)) return null;
  return <canvas class="blurhash" ref={canvas} width={PLACEHOLDER_SIZE} height={PLACEHOLDER_SIZE} aria-hidden="true" />;
}

/** A post's media on a timeline: up to four photos in a grid, or one video with the browser's controls. */
export function MediaGrid({ attachments }: { attachments: Attachment[] }) {
  const t = useT();
  return (
    <div class={`media-grid media-${Math.min(attachments.length, 4)}`}>
      {attachments.slice(0, 4).map((attachment) => {
        const description = attachment.description ?? "";
        if (isVideo(attachment)) {
          return (
            <video key={attachment.id} class="media" src={attachment.url ?? undefined}
                   poster={attachment.previewUrl ?? undefined} controls muted loop playsInline preload="metadata"
                   aria-label={description || t("status.noAltText")} />
          );
        }
        if (attachment.type === "image") {
          const size = attachment.meta?.original;
          const single = attachments.length === 1 && size?.width && size?.height;
          return (
            <div key={attachment.id} class="media-frame"
                 style={single ? { aspectRatio: `${size.width} / ${size.height}` } : undefined}>
              <Blurhash hash={attachment.blurhash} />
              <img class="media" src={attachment.previewUrl ?? attachment.url ?? undefined} alt={description}
                   title={description || undefined} loading="lazy" decoding="async" />
            </div>
          );
        }
        return <a key={attachment.id} class="media-link" href={attachment.url ?? undefined}>
          {description || t("status.attachment")}</a>;
      })}
    </div>
  );
}

interface PhotosProps {
  attachments: Attachment[];
  /** Load now (the item is on screen or next): otherwise when the browser likes. */
  eager: boolean;
}

/** For You's photos: each fills the stage, side by side when there are several (swipe sideways). */
export function PhotoStage({ attachments, eager }: PhotosProps) {
  const t = useT();
  const photos = attachments.filter((a) => a.type === "image").slice(0, 4);
  return (
    <div class="stage-photos" tabIndex={photos.length > 1 ? 0 : undefined}
         aria-label={photos.length > 1 ? t("player.photos", { count: photos.length }) : undefined}
         role={photos.length > 1 ? "group" : undefined}>
      {photos.map((photo, index) => (
        <figure key={photo.id} class="stage-photo">
          <Blurhash hash={photo.blurhash} />
          <img src={photo.url ?? photo.previewUrl ?? undefined} alt={photo.description ?? ""}
               loading={eager ? "eager" : "lazy"} decoding="async" />
          {photos.length > 1 && <span class="photo-count" aria-hidden="true">{index + 1}/{photos.length}</span>}
          {photo.description && <AltText text={photo.description} />}
        </figure>
      ))}
    </div>
  );
}

/** The photo's description on request, for everyone (screen readers have it as the image's alt text). */
function AltText({ text }: { text: string }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="alt-badge" aria-expanded={open} onClick={() => setOpen(!open)}
              aria-label={t("player.altText")}>ALT</button>
      {open && <figcaption class="alt-text">{text}</figcaption>}
    </>
  );
}

interface VideoProps {
  attachment: Attachment;
  preload: "auto" | "metadata" | "none";
  clock: WatchClock;
}

const ON_SCREEN = 0.6; // of the video's box in view: it is the one being watched

/** Whether the element is mostly in view and the page is visible (not a background tab). */
function useOnScreen(element: { current: Element | null }): boolean {
  const [inView, setInView] = useState(false);
  const [pageVisible, setPageVisible] = useState(() => document.visibilityState !== "hidden");
  useEffect(() => {
    const target = element.current;
    if (!target || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(([entry]) => setInView(!!entry && entry.intersectionRatio >= ON_SCREEN),
                                              { threshold: [0, ON_SCREEN, 1] });
    observer.observe(target);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const changed = () => setPageVisible(document.visibilityState !== "hidden");
    document.addEventListener("visibilitychange", changed);
    return () => document.removeEventListener("visibilitychange", changed);
  }, []);
  return inView && pageVisible;
}

/**
 * For You's video: plays (muted until the sound is turned on) while it is on screen, pauses when it
 * leaves or the tab is hidden; loops; a tap toggles the sound. With reduced motion, it waits for Play.
 */
export function VideoStage({ attachment, preload, clock }: VideoProps) {
  const t = useT();
  const video = useRef<HTMLVideoElement>(null);
  const [soundOn, setSound] = useState(isSoundOn());
  const [playing, setPlaying] = useState(false);
  const [percent, setPercent] = useState(0);
  const [reduced] = useState(prefersReducedMotion);
  const description = attachment.description ?? "";
  const active = useOnScreen(video);

  useEffect(() => onSoundChange(setSound), []);
  useEffect(() => {
    if (video.current) video.current.muted = !soundOn;
  }, [soundOn]);

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    if (active && !reduced) {
      element.muted = !isSoundOn();
      element.play().catch((refused: unknown) => {
        // Sound before any gesture in this tab is refused: it plays muted, as every video starts.
        if (!(refused instanceof DOMException && refused.name === "NotAllowedError")) return;
        element.muted = true;
        setSound(false);
        return element.play().catch(() => undefined);
      });
    } else if (!active) {
      element.pause();
    }
  }, [active]);

  function togglePlay() {
    const element = video.current;
    if (!element) return;
    if (element.paused) void element.play().catch(() => undefined);
    else element.pause();
  }

  function stopped() {
    clock.stopped();
    setPlaying(false);
  }

  return (
    <div class="stage-video">
      <Blurhash hash={attachment.blurhash} />
      <video ref={video} src={attachment.url ?? undefined} poster={attachment.previewUrl ?? undefined}
             preload={preload} muted loop playsInline aria-label={description || t("status.noAltText")}
             onClick={() => (reduced && !playing ? togglePlay() : setSoundOn(!soundOn))}
             onPlaying={() => { clock.started(); setPlaying(true); }}
             onPause={stopped} onWaiting={() => clock.stopped()} onEnded={stopped}
             onTimeUpdate={(event) => {
               const element = event.currentTarget;
               setPercent(Math.round(100 * progressOf(element.currentTime, element.duration)));
             }} />
      {description && <p class="stage-caption" aria-hidden="true">{description}</p>}
      {reduced && !playing && (
        <button type="button" class="stage-play" onClick={togglePlay} aria-label={t("player.play")}>
          <span aria-hidden="true">▶</span>
        </button>
      )}
      <VideoControls video={video} playing={playing} soundOn={soundOn} percent={percent} onPlay={togglePlay} />
    </div>
  );
}

interface ControlsProps {
  video: { current: HTMLVideoElement | null };
  playing: boolean;
  soundOn: boolean;
  /** Played, for assistive technology (updated a few times a second; the bar itself follows every frame). */
  percent: number;
  onPlay: () => void;
}

/** Pause/play, sound, and the progress bar along the bottom of the video. */
function VideoControls({ video, playing, soundOn, percent, onPlay }: ControlsProps) {
  const t = useT();
  const bar = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!playing) return;
    let frame = 0;
    const draw = () => {
      const element = video.current;
      if (element && bar.current) {
        bar.current.style.transform = `scaleX(${progressOf(element.currentTime, element.duration)})`;
      }
      frame = requestAnimationFrame(draw);
    };
    frame = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(frame);
  }, [playing]);
  return (
    <div class="stage-controls">
      <button type="button" class="stage-button" onClick={onPlay}
              aria-label={playing ? t("player.pause") : t("player.play")}>
        <span aria-hidden="true">{playing ? "❚❚" : "▶"}</span>
      </button>
      <button type="button" class="stage-button" aria-pressed={soundOn} onClick={() => setSoundOn(!soundOn)}
              aria-label={t("player.sound")} title={soundOn ? t("player.soundOn") : t("player.soundOff")}>
        <SpeakerIcon on={soundOn} />
      </button>
      <div class="stage-progress" role="progressbar" aria-label={t("player.progress")} aria-valuemin={0}
           aria-valuemax={100} aria-valuenow={percent}>
        <div class="stage-progress-bar" ref={bar} />
      </div>
    </div>
  );
}

/** A speaker, with waves when the sound is on and a cross when muted (no emoji font is needed). */
function SpeakerIcon({ on }: { on: boolean }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor"
         stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M4 9h4l5-4v14l-5-4H4z" fill="currentColor" />
      {on ? <path d="M16 9a4 4 0 0 1 0 6M18.5 6.5a7.5 7.5 0 0 1 0 11" /> : <path d="M16 9l5 6M21 9l-5 6" />}
    </svg>
  );
}
