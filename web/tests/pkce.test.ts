import { describe, expect, it } from "vitest";

import { challengeFor, randomToken } from "../src/api/pkce";

describe("PKCE", () => {
  it("derives the S256 challenge the server checks: unpadded base64url of the verifier's SHA-256", async () => {
    // base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"="), as src/stoa/social/oauth.py does
    expect(await challengeFor("dBjftJeZ4CVP-mA3-y5WeFNhNkwCrB4QaBh1l6X2xpA"))
      .toBe("PU2q2KgZ1uYRTApVfPqP8VWS470Hx-nem6LG4XMDXOY");
  });

  it("makes verifiers of 43 URL-safe characters, different every time", () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
  });
});
