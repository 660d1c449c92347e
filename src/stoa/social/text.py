"""Post text: find mentions, hashtags and links, and render safe HTML.

Mastodon posts are plain text. Rendering escapes everything, then links
``@user`` mentions, ``#tags`` and URLs, the way Mastodon's own formatter
does, and finally runs the result through the nh3 sanitiser as a second
line of defence.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3

MENTION_RE = re.compile(r"(?<![\w/@])@([A-Za-z0-9_]{1,30})(?:@([A-Za-z0-9.\-]+\.[A-Za-z]{2,}(?::\d+)?))?")
HASHTAG_RE = re.compile(r"(?<![\w/&#])#(\w{1,100})", re.UNICODE)
URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
TOKEN_RE = re.compile(f"{URL_RE.pattern}|{MENTION_RE.pattern}|{HASHTAG_RE.pattern}", re.UNICODE)

ALLOWED_TAGS = {"p", "br", "a", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "rel", "target", "translate"}, "span": {"class", "translate"}}


@dataclass(frozen=True)
class Parsed:
    mentions: list[str]  # lower-cased local usernames, in order, unique
    hashtags: list[str]  # as written, unique case-insensitively


def parse(text: str) -> Parsed:
    mentions: list[str] = []
    tags: list[str] = []
    for match in TOKEN_RE.finditer(text):
        token = match.group(0)
        if token.startswith("@"):
            name = token[1:].split("@", 1)[0].lower()
            if name not in mentions:
                mentions.append(name)
        elif token.startswith("#"):
            tag = token[1:]
            if not tag.isdigit() and tag.lower() not in {t.lower() for t in tags}:
                tags.append(tag)
    return Parsed(mentions=mentions, hashtags=tags)


def render(text: str, base_url: str, known_accounts: set[str]) -> str:
    """Plain text -> Mastodon-style HTML. Mentions link only to accounts that exist."""
    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        lines = [_render_line(line, base_url, known_accounts) for line in paragraph.split("\n")]
        rendered.append("<p>" + "<br />".join(lines) + "</p>")
    return sanitize("".join(rendered))


def _render_line(line: str, base_url: str, known: set[str]) -> str:
    out: list[str] = []
    position = 0
    for match in TOKEN_RE.finditer(line):
        out.append(html.escape(line[position : match.start()], quote=False))
        token = match.group(0)
        out.append(_render_token(token, base_url, known))
        position = match.end()
    out.append(html.escape(line[position:], quote=False))
    return "".join(out)


def _render_token(token: str, base_url: str, known: set[str]) -> str:
    if token.startswith("@"):
        name = token[1:].split("@", 1)[0]
        if name.lower() not in known:
            return html.escape(token, quote=False)
        href = html.escape(f"{base_url}/@{name}")
        return (
            f'<span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
            f"@<span>{html.escape(name)}</span></a></span>"
        )
    if token.startswith("#"):
        tag = token[1:]
        if tag.isdigit():
            return html.escape(token, quote=False)
        href = html.escape(f"{base_url}/tags/{tag.lower()}")
        return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{html.escape(tag)}</span></a>'
    href = html.escape(token)
    return f'<a href="{href}" rel="nofollow noopener" translate="no" target="_blank">{href}</a>'


def sanitize(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        link_rel=None,
        url_schemes={"http", "https"},
    )


def plain(text: str) -> str:
    """Profile notes and other one-off text: escaped, line breaks kept."""
    return sanitize("<p>" + "<br />".join(html.escape(line, quote=False) for line in text.split("\n")) + "</p>")

# The languages a post or a person's default may be tagged with (ISO 639-1).
LANGUAGE_CODES = {
    "en", "it", "fr", "de", "es", "pt", "nl", "pl", "ru", "uk", "ja", "zh", "ko", "ar", "tr", "sv", "da",
    "no", "fi", "cs", "el", "he", "hi", "ro", "hu", "ca", "eu", "gl", "eo", "id", "vi", "th", "fa",
}
