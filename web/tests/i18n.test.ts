import { describe, expect, it } from "vitest";

import { chooseLanguage, pickLanguage, t } from "../src/i18n";
import { en } from "../src/i18n/en";
import { fr } from "../src/i18n/fr";
import { it as italian } from "../src/i18n/it";

function keys(tree: object, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === "string" ? [`${prefix}${key}`] : keys(value as object, `${prefix}${key}.`)).sort();
}

function placeholders(tree: object): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  const walk = (node: object, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === "string") found[prefix + key] = [...value.matchAll(/{{(\w+)}}/g)].map((m) => m[1] ?? "").sort();
      else walk(value as object, `${prefix}${key}.`);
    }
  };
  walk(tree, "");
  return found;
}

describe("catalogues", () => {
  it.each([["it", italian], ["fr", fr]])("%s has every English message, with the same placeholders", (_, catalogue) => {
    expect(keys(catalogue)).toEqual(keys(en));
    expect(placeholders(catalogue)).toEqual(placeholders(en));
  });

  it.each([["en", en], ["it", italian], ["fr", fr]])("%s has no empty message", (_, catalogue) => {
    const empty = keys(catalogue).filter((key) => String(t(key as "nav.home", { lng: _ })).trim() === "");
    expect(empty).toEqual([]);
  });
});

describe("language", () => {
  it("follows the browser's first language the app speaks", () => {
    expect(pickLanguage(["de-DE", "fr-CA", "en"])).toBe("fr");
    expect(pickLanguage(["it"])).toBe("it");
    expect(pickLanguage(["ja", "de"])).toBe("en");
  });

  it("switches every message, plurals included, and remembers the choice", async () => {
    await chooseLanguage("it");
    expect(t("compose.remaining", { count: 1 })).toBe("Resta 1 carattere");
    expect(t("compose.remaining", { count: 3 })).toBe("Restano 3 caratteri");
    expect(document.documentElement.lang).toBe("it");
    expect(localStorage.getItem("stoa.language")).toBe("it");
    await chooseLanguage("fr");
    expect(t("nav.signIn")).toBe("Se connecter");
    await chooseLanguage("en");
    expect(t("status.likes", { count: 2 })).toBe("2 likes");
  });
});
