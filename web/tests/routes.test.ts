import { describe, expect, it } from "vitest";

import { acctFromSegment, appPathFor, profilePath, statusPath, tagPath } from "../src/routes";

describe("routes", () => {
  it("builds the addresses the API hands out for profiles and posts", () => {
    expect(profilePath("alice")).toBe("/@alice");
    expect(statusPath("alice", "123")).toBe("/@alice/123");
    expect(tagPath("café")).toBe("/tags/caf%C3%A9");
  });

  it("reads a profile segment only when it starts with @", () => {
    expect(acctFromSegment("@bob")).toBe("bob");
    expect(acctFromSegment("@bob@remote.example")).toBe("bob@remote.example");
    expect(acctFromSegment("bob")).toBeNull();
    expect(acctFromSegment("@")).toBeNull();
  });

  it("maps only this origin's app pages to in-app paths", () => {
    expect(appPathFor("http://s.test/@a/9", "http://s.test")).toBe("/@a/9");
    expect(appPathFor("http://s.test/api/v1/x", "http://s.test")).toBeNull();
    expect(appPathFor("https://other.example/@a", "http://s.test")).toBeNull();
  });
});
