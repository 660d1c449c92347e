import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { challengeFor } from "../src/api/pkce";
import { currentToken, finishSignIn, signInUrl, signOut } from "../src/api/session";

interface Sent {
  url: string;
  method: string;
  body: URLSearchParams | null;
}

let sent: Sent[] = [];

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  sent = [];
  localStorage.clear();
  sessionStorage.clear();
  vi.stubGlobal("fetch", vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    let body: URLSearchParams | null = null;
    if (init?.body instanceof URLSearchParams) body = init.body;
    else if (typeof init?.body === "string" && init.body.startsWith("{")) body = new URLSearchParams(JSON.parse(init.body));
    sent.push({ url, method, body });
    if (url.endsWith("/api/v1/apps")) {
      return answer({ id: "1", name: "Stoa web", client_id: "the-client", client_secret: "the-secret",
                      redirect_uri: `${location.origin}/oauth-callback` });
    }
    if (url.endsWith("/oauth/token")) return answer({ access_token: "local.person-token", token_type: "Bearer" });
    if (url.endsWith("/oauth/revoke")) return answer({});
    return answer({ error: "Record not found" }, 404);
  }));
});

afterEach(() => vi.unstubAllGlobals());

describe("sign-in", () => {
  it("registers the app once, then sends the browser to authorize with an S256 challenge", async () => {
    const url = new URL(await signInUrl("/for-you"), location.origin);
    expect(url.pathname).toBe("/oauth/authorize");
    const query = url.searchParams;
    expect(query.get("client_id")).toBe("the-client");
    expect(query.get("redirect_uri")).toBe(`${location.origin}/oauth-callback`);
    expect(query.get("response_type")).toBe("code");
    expect(query.get("code_challenge_method")).toBe("S256");
    const pending = JSON.parse(sessionStorage.getItem("stoa.signin") ?? "{}") as { verifier: string; state: string };
    expect(query.get("code_challenge")).toBe(await challengeFor(pending.verifier));
    expect(query.get("state")).toBe(pending.state);

    await signInUrl();
    expect(sent.filter((s) => s.url.endsWith("/api/v1/apps"))).toHaveLength(1);
  });

  it("exchanges the code with the verifier, keeps the token, and goes back where it started", async () => {
    const url = new URL(await signInUrl("/for-you"), location.origin);
    const state = url.searchParams.get("state") ?? "";
    const verifier = (JSON.parse(sessionStorage.getItem("stoa.signin") ?? "{}") as { verifier: string }).verifier;

    const next = await finishSignIn(new URLSearchParams({ code: "local.code", state }));

    expect(next).toBe("/for-you");
    const exchange = sent.find((s) => s.url.endsWith("/oauth/token"));
    expect(exchange?.body?.get("grant_type")).toBe("authorization_code");
    expect(exchange?.body?.get("code_verifier")).toBe(verifier);
    expect(exchange?.body?.has("client_secret")).toBe(false);
    expect(currentToken()).toBe("local.person-token");
    expect(localStorage.getItem("stoa.token")).toBe("local.person-token");
  });

  it("refuses a callback whose state this tab did not send", async () => {
    await signInUrl();
    await expect(finishSignIn(new URLSearchParams({ code: "c", state: "forged" }))).rejects.toThrow(/not started here/);
    expect(sent.some((s) => s.url.endsWith("/oauth/token"))).toBe(false);
  });

  it("revokes the token on sign-out, then forgets it", async () => {
    const url = new URL(await signInUrl(), location.origin);
    await finishSignIn(new URLSearchParams({ code: "c", state: url.searchParams.get("state") ?? "" }));

    await signOut();

    const revoke = sent.find((s) => s.url.endsWith("/oauth/revoke"));
    expect(revoke?.body?.get("token")).toBe("local.person-token");
    expect(revoke?.body?.get("client_secret")).toBe("the-secret");
    expect(currentToken()).toBeNull();
    expect(localStorage.getItem("stoa.token")).toBeNull();
  });
});
