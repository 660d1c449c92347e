import { afterEach, describe, expect, it, vi } from "vitest";

import { camelKeys, forYou } from "../src/api/stoa";

afterEach(() => vi.unstubAllGlobals());

describe("the Stoa client", () => {
  it("gives For You's posts the same shape as masto.js gives every other timeline's", async () => {
    const post = { id: "7", spoiler_text: "", media_attachments: [{ preview_url: "/p.jpg" }],
                   account: { display_name: "Ada", avatar_static: "/a.png" }, "read:statuses": 1 };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify([post]), {
      headers: { Link: '<http://127.0.0.1:8000/api/v1/timelines/for_you?mode=none&max_id=7>; rel="next"' } })));

    const page = await forYou("none");

    expect(page.items[0]).toEqual({ id: "7", spoilerText: "", mediaAttachments: [{ previewUrl: "/p.jpg" }],
                                    account: { displayName: "Ada", avatarStatic: "/a.png" }, "read:statuses": 1 });
    expect(page.next).toBe("/api/v1/timelines/for_you?mode=none&max_id=7");
  });

  it("leaves values alone", () => {
    expect(camelKeys({ in_reply_to_id: null, tags: ["snake_case"] })).toEqual({ inReplyToId: null, tags: ["snake_case"] });
  });
});
