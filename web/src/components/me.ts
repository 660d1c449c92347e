/** The signed-in person's own account, loaded once per token. */
import { useEffect, useState } from "preact/hooks";

import { type Account, masto } from "../api/mastodon";
import { currentToken, onSessionChange } from "../api/session";

let loaded: { token: string; account: Promise<Account> } | null = null;
const changes = new Set<(account: Account) => void>();

function accountFor(token: string): Promise<Account> {
  if (!loaded || loaded.token !== token) {
    loaded = { token, account: masto().v1.accounts.verifyCredentials() };
  }
  return loaded.account;
}

/** The person changed their profile: everything showing it shows the new one. */
export function replaceMe(account: Account): void {
  const token = currentToken();
  if (!token) return;
  loaded = { token, account: Promise.resolve(account) };
  for (const changed of changes) changed(account);
}

/** `undefined` while loading, `null` when signed out. */
export function useMe(): Account | null | undefined {
  const [token, setToken] = useState(currentToken());
  const [me, setMe] = useState<Account | null | undefined>(token ? undefined : null);
  useEffect(() => onSessionChange(setToken), []);
  useEffect(() => {
    changes.add(setMe);
    return () => void changes.delete(setMe);
  }, []);
  useEffect(() => {
    if (!token) {
      setMe(null);
      return;
    }
    let live = true;
    accountFor(token).then(
      (account) => live && setMe(account),
      () => live && setMe(null),
    );
    return () => {
      live = false;
    };
  }, [token]);
  return me;
}

export function useSignedIn(): boolean {
  const [token, setToken] = useState(currentToken());
  useEffect(() => onSessionChange(setToken), []);
  return token !== null;
}
