/** The Mastodon API through masto.js, on this origin, with the signed-in person's token if any. */
import { createRestAPIClient, type mastodon } from "masto";

import { currentToken } from "./session";

export type Status = mastodon.v1.Status;
export type Account = mastodon.v1.Account;
export type Relationship = mastodon.v1.Relationship;
export type Visibility = mastodon.v1.StatusVisibility;

let cached: { token: string | null; client: mastodon.rest.Client } | null = null;

export function masto(): mastodon.rest.Client {
  const token = currentToken();
  if (!cached || cached.token !== token) {
    cached = { token, client: createRestAPIClient({ url: location.origin, accessToken: token ?? undefined }) };
  }
  return cached.client;
}
