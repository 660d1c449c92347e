/**
 * Every string the app shows goes through i18next, from the catalogues beside this file. The language
 * follows the browser (navigator.languages) unless the person picked one in Settings.
 */
import i18next from "i18next";
import { useEffect, useState } from "preact/hooks";

import { en } from "./en";
import { fr } from "./fr";
import { it } from "./it";

export const LANGUAGES = { en: "English", it: "Italiano", fr: "Français" } as const;
export type Language = keyof typeof LANGUAGES;
const CHOSEN_KEY = "stoa.language";

declare module "i18next" {
  interface CustomTypeOptions {
    defaultNS: "translation";
    resources: { translation: typeof en };
  }
}

function isLanguage(code: string | null | undefined): code is Language {
  return !!code && code in LANGUAGES;
}

/** The first of the browser's languages that the app speaks (by primary subtag), else English. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split("-")[0];
    if (isLanguage(primary)) return primary;
  }
  return "en";
}

export function chosenLanguage(): Language | null {
  try {
    const chosen = localStorage.getItem(CHOSEN_KEY);
    return isLanguage(chosen) ? chosen : null;
  } catch {
    return null;
  }
}

function startingLanguage(): Language {
  const nav = typeof navigator === "undefined" ? [] : navigator.languages ?? [navigator.language];
  return chosenLanguage() ?? pickLanguage(nav);
}

void i18next.init({
  lng: startingLanguage(),
  fallbackLng: "en",
  resources: { en: { translation: en }, it: { translation: it }, fr: { translation: fr } },
  interpolation: { escapeValue: false }, // Preact escapes text; nothing here becomes HTML
  initAsync: false,
  returnNull: false,
});

function applyToDocument(language: string): void {
  if (typeof document !== "undefined") document.documentElement.lang = language;
}
applyToDocument(i18next.language);

export const t = i18next.t.bind(i18next);

export function currentLanguage(): Language {
  return isLanguage(i18next.language) ? i18next.language : "en";
}

/** `null`: follow the browser again. */
export async function chooseLanguage(language: Language | null): Promise<void> {
  try {
    if (language) localStorage.setItem(CHOSEN_KEY, language);
    else localStorage.removeItem(CHOSEN_KEY);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
  await i18next.changeLanguage(language ?? startingLanguage());
  applyToDocument(i18next.language);
}

/** Re-render the calling component when the language changes; answers `t`. */
export function useT(): typeof t {
  const [, setLanguage] = useState(i18next.language);
  useEffect(() => {
    const changed = (language: string) => setLanguage(language);
    i18next.on("languageChanged", changed);
    return () => i18next.off("languageChanged", changed);
  }, []);
  return t;
}

/** "3 min ago", "yesterday"… in the current language. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const format = new Intl.RelativeTimeFormat(currentLanguage(), { numeric: "auto", style: "short" });
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["second", 60], ["minute", 60], ["hour", 24], ["day", 7], ["week", 4.35], ["month", 12], ["year", Infinity],
  ];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return format.format(Math.round(value), unit);
    value /= size;
  }
  return format.format(Math.round(value), "year");
}

export function fullDate(iso: string): string {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "long", timeStyle: "short" }).format(new Date(iso));
}

export function languageName(code: string): string {
  try {
    return new Intl.DisplayNames([currentLanguage()], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}
