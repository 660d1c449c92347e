import { render } from "@testing-library/preact";
import { describe, expect, it } from "vitest";

import { renderContent } from "../src/components/content";

const ORIGIN = "http://stoa.test";

function rendered(html: string): Element {
  return render(<div>{renderContent(html, ORIGIN)}</div>).container;
}

describe("renderContent", () => {
  it("keeps paragraphs, line breaks and links", () => {
    const html = rendered('<p>Hello <a href="https://example.org/x">world</a><br>again</p>').innerHTML;
    expect(html).toContain("<p>Hello ");
    expect(html).toContain('href="https://example.org/x"');
    expect(html).toContain('rel="nofollow noopener noreferrer"');
    expect(html).toContain("<br>");
  });

  it("never lets markup run: scripts, handlers, styles and javascript: links are dropped", () => {
    const root = rendered('<p onclick="alert(1)" style="color:red">a<script>alert(2)</script>'
      + '<img src=x onerror="alert(3)"><a href="javascript:alert(4)">b</a><style>p{}</style><svg onload="alert(5)"></svg></p>');
    expect(root.querySelector("script, style, svg, img, [onclick], [style], [onerror]")).toBeNull();
    expect(root.querySelector("a")).toBeNull();
    expect(root.textContent).toBe("ab");
  });

  it("shows text that looks like markup as text", () => {
    const root = rendered("<p>1 &lt; 2 &amp;&amp; &lt;b&gt;not bold&lt;/b&gt;</p>");
    expect(root.querySelector("b")).toBeNull();
    expect(root.textContent).toBe("1 < 2 && <b>not bold</b>");
  });

  it("turns this server's profile and hashtag links into app routes, keeping Mastodon's classes", () => {
    const root = rendered(`<p><span class="h-card"><a href="${ORIGIN}/@alice" class="u-url mention">@alice</a></span> `
      + `<a href="${ORIGIN}/tags/cycling" class="mention hashtag" rel="tag">#cycling</a></p>`);
    const links = [...root.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["/@alice", "/tags/cycling"]);
    expect(links[0]?.getAttribute("target")).toBeNull();
    expect(links[1]?.className).toBe("mention hashtag");
  });
});
