/**
 * How For You plays video, as plain functions and small state the components share: whether sound is
 * on (muted until the person turns it on, then on for the rest of the session), how much of a video was
 * really watched, and which items load ahead.
 */
const SOUND_KEY = "stoa.sound";
type Listener = (on: boolean) => void;
const listeners = new Set<Listener>();

function stored(): boolean {
  try {
    return sessionStorage.getItem(SOUND_KEY) === "on";
  } catch {
    return false;
  }
}

let soundOn: boolean | null = null;

/** Videos start muted; once the person turns the sound on, every video has it until the tab closes. */
export function isSoundOn(): boolean {
  soundOn ??= stored();
  return soundOn;
}

export function setSoundOn(on: boolean): void {
  soundOn = on;
  try {
    sessionStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    // storage disabled: the choice lasts for this page
  }
  for (const listener of listeners) listener(on);
}

export function onSoundChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Seconds of video actually played: the intervals between "playing" and the next stop, loops included. */
export class WatchClock {
  private since: number | null = null;
  private total = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  started(): void {
    this.since ??= this.now();
  }

  stopped(): void {
    if (this.since !== null) this.total += this.now() - this.since;
    this.since = null;
  }

  /** Milliseconds played so far (a running interval counts up to now). */
  get watchedMs(): number {
    return this.total + (this.since === null ? 0 : this.now() - this.since);
  }
}

/**
 * How much of item `index` the browser loads when item `current` is on screen: all of it for the one shown
 * and the next two (so the next video starts at once), the first frames for the one before, nothing for
 * the rest.
 */
export function preloadFor(index: number, current: number): "auto" | "metadata" | "none" {
  if (index >= current && index <= current + 2) return "auto";
  if (index === current - 1) return "metadata";
  return "none";
}

/** Played fraction of a video, 0 to 1 (0 while its length is unknown). */
export function progressOf(currentTime: number, duration: number): number {
  if (!Number.isFinite(duration) || duration <= 0) return 0;
  return Math.max(0, Math.min(1, currentTime / duration));
}
