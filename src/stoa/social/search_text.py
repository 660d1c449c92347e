"""Language-aware search documents and queries, the same on SQLite and PostgreSQL.

A status is indexed as its normalised words plus their Snowball stems in the
post's language (English, Italian, French, and others Snowball knows). A
query term matches either the word itself or its stem in any supported
language, so "cycling" finds "cycle" in English, "ciclismo" finds
"ciclisti" in Italian, and accents do not matter.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

WORD_RE = re.compile(r"\w+", re.UNICODE)
LANGUAGES = {"en": "english", "it": "italian", "fr": "french", "de": "german", "es": "spanish",
             "pt": "portuguese", "nl": "dutch"}
QUERY_LANGUAGES = ("en", "it", "fr")
STOPWORDS = {
    "en": {"the", "and", "is", "of", "to", "in", "it", "that", "with", "for", "this", "on", "are", "you"},
    "it": {"il", "la", "che", "di", "e", "per", "non", "un", "una", "sono", "con", "del", "della", "gli"},
    "fr": {"le", "la", "les", "et", "est", "des", "un", "une", "pour", "dans", "que", "pas", "du", "avec"},
}
MAX_QUERY_TERMS = 12


@lru_cache(maxsize=16)
def _stemmer(language: str) -> object | None:
    name = LANGUAGES.get(language)
    return snowballstemmer.stemmer(name) if name else None


def fold(word: str) -> str:
    """Lower-case and strip accents, so "Città" and "citta" are one word."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [fold(w) for w in WORD_RE.findall(text) if len(w) <= 64]


def stem(word: str, language: str) -> str:
    stemmer = _stemmer(language)
    return stemmer.stemWord(word) if stemmer is not None else word  # type: ignore[attr-defined]


def detect_language(text: str) -> str | None:
    """A cheap guess among English, Italian and French from stop words."""
    found = words(text)
    scores = {lang: sum(1 for w in found if w in stops) for lang, stops in STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 2 else None


def document(text: str, language: str | None) -> str:
    """The indexed form of a post: its words, plus stems for its language."""
    terms = words(text)
    extra = {stem(w, language) for w in terms} if language in LANGUAGES else set()
    return " ".join([*terms, *sorted(extra - set(terms))])


def query_alternatives(query: str) -> list[set[str]]:
    """Each query word -> the set of terms that match it (word and its stems)."""
    alternatives = []
    for word in words(query)[:MAX_QUERY_TERMS]:
        options = {word} | {stem(word, lang) for lang in QUERY_LANGUAGES}
        alternatives.append({o for o in options if o})
    return alternatives


def fts5_query(query: str) -> str | None:
    """SQLite FTS5 MATCH expression: every word must match (via any of its forms)."""
    groups = query_alternatives(query)
    if not groups:
        return None
    return " AND ".join("(" + " OR ".join(f'"{t}"' for t in sorted(g)) + ")" for g in groups)


def tsquery(query: str) -> str | None:
    """PostgreSQL to_tsquery('simple', ...) expression with the same meaning."""
    groups = query_alternatives(query)
    if not groups:
        return None
    return " & ".join("(" + " | ".join(f"'{t}'" for t in sorted(g)) + ")" for g in groups)
