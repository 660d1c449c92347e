import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { showLess } from "../src/api/stoa";
import { decodeBlurhash, isBlurhash } from "../src/components/blurhash";
import { shareLink } from "../src/components/ItemActions";
import { isSoundOn, onSoundChange, preloadFor, progressOf, setSoundOn, WatchClock } from "../src/components/playback";

// What the server's encoder (Python's blurhash, as stoa.media.images uses it) makes of a picture whose
// left half is red (200, 40, 40) and right half blue (30, 40, 220).
const RED_BLUE = "L.G}bx|msROIoMn~fPa}fQfQfQfQ";

describe("blurhash", () => {
  it("paints the picture the server hashed: red on the left, blue on the right", () => {
    const pixels = decodeBlurhash(RED_BLUE, 8, 8);
    const at = (x: number, y: number) => Array.from(pixels.slice(4 * (x + 8 * y), 4 * (x + 8 * y) + 4));
    const [lr, , lb, la] = at(0, 4);
    const [rr, , rb] = at(7, 4);
    expect(lr).toBeGreaterThan(150);
    expect(lb).toBeLessThan(100);
    expect(rb).toBeGreaterThan(150);
    expect(rr).toBeLessThan(100);
    expect(la).toBe(255);
  });

  it("refuses what is not a blurhash", () => {
    expect(isBlurhash(RED_BLUE)).toBe(true);
    expect(isBlurhash(RED_BLUE.slice(0, -2))).toBe(false);
    expect(isBlurhash("not a hash!")).toBe(false);
    expect(isBlurhash(null)).toBe(false);
    expect(() => decodeBlurhash("short", 4, 4)).toThrow();
  });
});

describe("playback", () => {
  beforeEach(() => sessionStorage.clear());

  it("counts only the time a video really played, loops included", () => {
    let now = 0;
    const clock = new WatchClock(() => now);
    clock.started();
    now = 1500;
    clock.started(); // a second "playing" while already playing changes nothing
    now = 4000;
    clock.stopped();
    now = 9000; // paused: not watched
    expect(clock.watchedMs).toBe(4000);
    clock.started();
    now = 9500;
    expect(clock.watchedMs).toBe(4500); // running: counted up to now
  });

  it("loads the shown item and the next two in full, the one before a little, the rest not at all", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => preloadFor(i, 3))).toEqual(
      ["none", "none", "metadata", "auto", "auto", "auto", "none"]);
  });

  it("keeps the progress between 0 and 1, and 0 while the length is unknown", () => {
    expect(progressOf(1, 4)).toBe(0.25);
    expect(progressOf(5, 4)).toBe(1);
    expect(progressOf(1, Number.NaN)).toBe(0);
    expect(progressOf(1, Number.POSITIVE_INFINITY)).toBe(0);
  });

  it("turns the sound on for every video of the session, and tells the players", () => {
    const heard: boolean[] = [];
    const stop = onSoundChange((on) => heard.push(on));
    setSoundOn(true);
    expect(isSoundOn()).toBe(true);
    expect(sessionStorage.getItem("stoa.sound")).toBe("on");
    setSoundOn(false);
    stop();
    setSoundOn(true);
    expect(heard).toEqual([true, false]);
  });
});

describe("For You's actions", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("sends exactly one target of \"show less\"", async () => {
    const bodies: string[] = [];
    vi.stubGlobal("fetch", vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(String(init.body));
      return new Response("{}", { headers: { "Content-Type": "application/json" } });
    }));
    await showLess({ statusId: "12" });
    await showLess({ accountId: "34" });
    await showLess({ tag: "cycling" });
    expect(bodies).toEqual(["status_id=12", "account_id=34", "tag=cycling"]);
  });

  it("shares through the system's sheet, or copies the link where there is none", async () => {
    const copied: string[] = [];
    vi.stubGlobal("navigator", { clipboard: { writeText: async (text: string) => void copied.push(text) } });
    expect(await shareLink("http://s/@a/1", "A")).toBe("copied");
    expect(copied).toEqual(["http://s/@a/1"]);

    const shared: ShareData[] = [];
    vi.stubGlobal("navigator", { share: async (data: ShareData) => void shared.push(data),
                                 clipboard: { writeText: async () => undefined } });
    expect(await shareLink("http://s/@a/2", "A")).toBe("shared");
    expect(shared).toEqual([{ url: "http://s/@a/2", title: "A" }]);
  });
});
