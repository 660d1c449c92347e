import { describe, expect, it } from "vitest";

import { nextPage } from "../src/api/link";

describe("nextPage", () => {
  it("keeps the path and query of the next page, whatever origin the server names", () => {
    const link = '<http://127.0.0.1:8000/api/v1/timelines/home?max_id=42&limit=20>; rel="next", '
      + '<http://127.0.0.1:8000/api/v1/timelines/home?min_id=99>; rel="prev"';
    expect(nextPage(link)).toBe("/api/v1/timelines/home?max_id=42&limit=20");
  });

  it("answers null on the last page", () => {
    expect(nextPage('<https://s.example/api/v1/x?min_id=1>; rel="prev"')).toBeNull();
    expect(nextPage(null)).toBeNull();
    expect(nextPage("")).toBeNull();
  });
});
