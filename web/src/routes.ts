/**
 * The app's addresses. The server answers index.html for these (src/stoa/web/spa.py keeps the same list)
 * and a 404 for anything else, so a link someone shares always means the same page.
 */

export function profilePath(acct: string): string {
  return `/@${acct}`;
}

export function statusPath(acct: string, id: string): string {
  return `/@${acct}/${id}`;
}

export function tagPath(tag: string): string {
  return `/tags/${encodeURIComponent(tag)}`;
}

/** `@alice` -> `alice`; anything not starting with `@` is not a profile segment. */
export function acctFromSegment(segment: string | undefined): string | null {
  if (!segment || !segment.startsWith("@") || segment.length < 2) return null;
  return decodeURIComponent(segment.slice(1));
}

/** The in-app path of a URL on this origin that the app has a page for (profile, post, hashtag), or null. */
export function appPathFor(href: string, origin: string): string | null {
  let url: URL;
  try {
    url = new URL(href, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  if (/^\/@[^/]+(\/\d+)?\/?$/.test(url.pathname) || /^\/tags\/[^/]+\/?$/.test(url.pathname)) {
    return url.pathname;
  }
  return null;
}
