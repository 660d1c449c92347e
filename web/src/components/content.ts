/**
 * A post's `content` as Preact elements, never as innerHTML.
 *
 * The server already sanitises post HTML (nh3). This renders it once more through an allow-list, as
 * elements Preact creates itself: unknown tags keep only their text, attributes other than a link's
 * address and a few Mastodon classes are dropped, and only http(s) links survive. Links to this server's
 * profiles and hashtags become in-app routes.
 */
import { h, type ComponentChildren } from "preact";

import { appPathFor } from "../routes";

const BLOCKS = new Set(["p", "br", "blockquote", "pre", "ul", "ol", "li"]);
const INLINE = new Set(["a", "span", "strong", "b", "em", "i", "u", "s", "del", "code"]);
const DROPPED = new Set(["script", "style", "template", "noscript", "iframe", "object", "svg", "math", "title"]);
const CLASSES = new Set(["mention", "hashtag", "h-card", "u-url", "invisible", "ellipsis"]);

function safeHref(href: string | null, origin: string): string | null {
  if (!href) return null;
  try {
    const url = new URL(href, origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function convert(node: Node, origin: string, key: number): ComponentChildren {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent ?? "";
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const element = node as Element;
  const tag = element.tagName.toLowerCase();
  if (DROPPED.has(tag)) return null; // not even their text: it is code, not words
  const children = Array.from(element.childNodes, (child, i) => convert(child, origin, i));
  if (!BLOCKS.has(tag) && !INLINE.has(tag)) return children;
  if (tag === "br") return h("br", { key });
  const props: Record<string, unknown> = { key };
  const classes = (element.getAttribute("class") ?? "").split(/\s+/).filter((c) => CLASSES.has(c));
  if (classes.length) props.class = classes.join(" ");
  if (tag === "a") {
    const href = safeHref(element.getAttribute("href"), origin);
    if (!href) return children;
    const inApp = appPathFor(href, origin);
    props.href = inApp ?? href;
    if (!inApp) {
      props.rel = "nofollow noopener noreferrer";
      props.target = "_blank";
    }
  }
  return h(tag, props, children);
}

export function renderContent(html: string, origin: string = location.origin): ComponentChildren {
  const parsed = new DOMParser().parseFromString(html, "text/html"); // inert: nothing in it runs or loads
  return h("div", { class: "content" }, Array.from(parsed.body.childNodes, (n, i) => convert(n, origin, i)));
}
