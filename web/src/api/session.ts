/**
 * Signing in and out, as any third-party Mastodon client does it, through the public API only.
 *
 * - The app registers itself once per browser (POST /api/v1/apps) with the redirect URI
 *   `<origin>/oauth-callback`, and keeps the client id and secret in localStorage.
 * - Sign-in: OAuth 2 authorization code with PKCE S256. The browser goes to the server's own sign-in page
 *   (/oauth/authorize), which is the only place a password is typed for signing in; the code comes back
 *   to /oauth-callback and is exchanged with the verifier that never left this tab.
 * - Sign-up: as Mastodon documents for clients: an app token (client_credentials), then
 *   POST /api/v1/accounts, which answers with the new person's token. The app token is revoked after.
 * - The token lives in memory and in localStorage, so a reload or a second tab stays signed in; any
 *   script running on this origin could read it, which is why the app's pages run under a strict
 *   Content-Security-Policy (docs/web.md says more).
 * - Sign-out revokes the token on the server (POST /oauth/revoke) before forgetting it.
 */
import { createRestAPIClient } from "masto";

import { ApiError, call } from "./http";
import { challengeFor, randomToken } from "./pkce";

export const SCOPES = "read write follow push";
const APP_KEY = "stoa.app";
const TOKEN_KEY = "stoa.token";
const PENDING_KEY = "stoa.signin"; // the verifier and state of a sign-in under way, for this tab only

export interface RegisteredApp {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

interface PendingSignIn {
  verifier: string;
  state: string;
  returnTo: string;
}

interface TokenAnswer {
  access_token: string;
}

let token: string | null = readToken();
const listeners = new Set<(token: string | null) => void>();

function readToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: signed in for this page's lifetime only
  }
}

export function currentToken(): string | null {
  return token;
}

export function onSessionChange(listener: (token: string | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setToken(value: string | null): void {
  token = value;
  try {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token stays in memory only
  }
  for (const listener of listeners) listener(value);
}

// Another tab signed in or out: follow it.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === TOKEN_KEY && event.newValue !== token) {
      token = event.newValue;
      for (const listener of listeners) listener(token);
    }
  });
}

export function redirectUri(): string {
  return `${location.origin}/oauth-callback`;
}

function savedApp(): RegisteredApp | null {
  try {
    const app = JSON.parse(localStorage.getItem(APP_KEY) ?? "null") as RegisteredApp | null;
    return app && app.redirectUri === redirectUri() ? app : null;
  } catch {
    return null;
  }
}

/** This browser's registration of the app, made on first use. */
export async function registeredApp(): Promise<RegisteredApp> {
  const saved = savedApp();
  if (saved) return saved;
  const created = await createRestAPIClient({ url: location.origin }).v1.apps.create({
    clientName: "Stoa web",
    redirectUris: redirectUri(),
    scopes: SCOPES,
    website: location.origin,
  });
  if (!created.clientId || !created.clientSecret) throw new ApiError(500, "The server registered no client");
  const app = { clientId: created.clientId, clientSecret: created.clientSecret, redirectUri: redirectUri() };
  localStorage.setItem(APP_KEY, JSON.stringify(app));
  return app;
}

/** Where to send the browser to sign in; `returnTo` is the app path to come back to afterwards. */
export async function signInUrl(returnTo = "/"): Promise<string> {
  const app = await registeredApp();
  const pending: PendingSignIn = { verifier: randomToken(), state: randomToken(), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const query = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    response_type: "code",
    scope: SCOPES,
    state: pending.state,
    code_challenge: await challengeFor(pending.verifier),
    code_challenge_method: "S256",
  });
  return `/oauth/authorize?${query.toString()}`;
}

/** The end of sign-in, on /oauth-callback: exchange the code; answers the path to go on to. */
export async function finishSignIn(query: URLSearchParams): Promise<string> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null") as PendingSignIn | null;
  sessionStorage.removeItem(PENDING_KEY);
  const code = query.get("code");
  if (!pending || !code || query.get("state") !== pending.state) {
    throw new ApiError(400, "This sign-in was not started here, or was already used");
  }
  const app = await registeredApp();
  const answer = await call<TokenAnswer>("/oauth/token", {
    method: "POST",
    form: {
      grant_type: "authorization_code",
      code,
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      code_verifier: pending.verifier,
    },
  });
  setToken(answer.items.access_token);
  return pending.returnTo.startsWith("/") && !pending.returnTo.startsWith("//") ? pending.returnTo : "/";
}

export interface SignUpFields {
  username: string;
  email: string;
  password: string;
  agreement: boolean;
  locale: string;
}

export async function signUp(fields: SignUpFields): Promise<void> {
  const app = await registeredApp();
  const appToken = await call<TokenAnswer>("/oauth/token", {
    method: "POST",
    form: { grant_type: "client_credentials", client_id: app.clientId, client_secret: app.clientSecret,
            scope: SCOPES },
  });
  try {
    const created = await createRestAPIClient({ url: location.origin, accessToken: appToken.items.access_token })
      .v1.accounts.create({ ...fields, agreement: fields.agreement });
    setToken(created.accessToken);
  } finally {
    await revoke(app, appToken.items.access_token).catch(() => undefined); // it could only sign people up
  }
}

async function revoke(app: RegisteredApp, value: string): Promise<void> {
  await call("/oauth/revoke", {
    method: "POST",
    form: { client_id: app.clientId, client_secret: app.clientSecret, token: value },
  });
}

/** Revoke the token on the server, then forget it. Forgotten even when the server cannot be reached. */
export async function signOut(): Promise<void> {
  const value = token;
  if (!value) return;
  try {
    const app = savedApp();
    if (app) await revoke(app, value);
  } finally {
    setToken(null);
  }
}
