import { describe, expect, it } from "vitest";

import { countCharacters, loadDraft, saveDraft } from "../src/components/compose";

describe("composer", () => {
  it("counts as the server does: code points of text and warning", () => {
    expect(countCharacters("hello", "")).toBe(5);
    expect(countCharacters("👍🏽 ok", "cw")).toBe(7); // two code points for the emoji, as Python's len()
    expect(countCharacters("è", "")).toBe(1);
  });

  it("keeps a draft until it is cleared", () => {
    saveDraft("new", "half a thought");
    expect(loadDraft("new")).toBe("half a thought");
    saveDraft("new", "");
    expect(loadDraft("new")).toBe("");
  });
});
