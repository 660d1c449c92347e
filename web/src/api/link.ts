/**
 * The `Link` header of a paginated Mastodon list: where the next (older) page is.
 *
 * Only the path and query are kept: the server names its configured public URL, which may be a different
 * origin from the one the browser opened (127.0.0.1 against localhost), and the app only talks to its own.
 */
export function nextPage(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (match && match[2]?.split(/\s+/).includes("next")) {
      const url = new URL(match[1] ?? "", "http://placeholder.invalid");
      return url.pathname + url.search;
    }
  }
  return null;
}
