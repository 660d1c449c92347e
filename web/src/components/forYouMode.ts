/** The For You mode a person chose, kept in this browser (the same key views/ForYou.tsx reads). */
import type { ForYouMode } from "../api/stoa";

export const MODE_KEY = "stoa.forYouMode";

export function savedMode(): ForYouMode {
  try {
    return localStorage.getItem(MODE_KEY) === "none" ? "none" : "personalised";
  } catch {
    return "personalised";
  }
}

export function saveMode(mode: ForYouMode): void {
  try {
    localStorage.setItem(MODE_KEY, mode);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}
