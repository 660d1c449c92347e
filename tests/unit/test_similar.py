"""Text vectors: posts that mean the same come out close, across English, Italian and French."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stoa.feeds.similar import DIM, clean, embed, embed_many


def cosine(a: str, b: str) -> float:
    va, vb = embed(a), embed(b)
    assert va is not None and vb is not None
    return float(va @ vb)


CYCLING = {
    "it": "Giro in bici sulle Dolomiti, salita dura ma che panorama #ciclismo",
    "fr": "Sortie à vélo dans les Alpes, montée difficile #cyclisme",
    "en": "Bike ride in the Alps today, tough climb #cycling",
}
COOKING = {
    "it": "La ricetta della nonna: sugo di pomodoro e basilico #cucina",
    "fr": "La recette de ma grand-mère : sauce tomate et basilic #cuisine",
    "en": "Grandma's recipe: tomato sauce with basil #cooking",
}


def test_same_topic_is_closer_than_another_topic_in_each_language() -> None:
    liked = "Ciclismo in montagna: le salite delle Dolomiti in bici #ciclismo"
    for language in ("it", "fr", "en"):
        assert cosine(liked, CYCLING[language]) > cosine(liked, COOKING[language]) + 0.2, language


def test_meaning_carries_across_languages_without_shared_words() -> None:
    # No word, stem or hashtag in common: only the meaning is shared.
    english = "My cat sleeps on the sofa all afternoon"
    italian = "Il mio gatto dorme sul divano tutto il pomeriggio"
    french = "Mon chat dort sur le canapé tout l'après-midi"
    finance = "The central bank raised interest rates again"
    assert cosine(english, italian) > 0.7 and cosine(english, french) > 0.7 and cosine(italian, french) > 0.7
    for other in (italian, french):
        assert cosine(english, other) > cosine(english, finance) + 0.4
    # A post about food is nearer food in another language than cycling in its own.
    assert cosine(COOKING["it"], COOKING["fr"]) > cosine(COOKING["it"], CYCLING["it"])
    assert cosine(COOKING["en"], COOKING["it"]) > cosine(COOKING["en"], CYCLING["en"])


def test_vectors_are_unit_length_deterministic_and_ignore_noise() -> None:
    vector = embed("Hello @someone@example.org https://example.org/x #CaféCulture")
    assert vector is not None and vector.shape == (DIM,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert np.allclose(vector, embed("Hello @someone@example.org https://example.org/x #CaféCulture"), atol=1e-6)
    # Links and mentions are not content; hashtags are words, CamelCase split.
    assert clean("Hello @someone@example.org https://example.org/x #CaféCulture #tour_de_france") == (
        "Hello Café Culture tour de france")
    assert embed("@bob https://x.org 42 !!") is None  # nothing to go on
    batch = embed_many(["Bike ride in the Alps", "@bob", "Giro in bici"])
    assert batch[1] is None and batch[0] is not None and batch[2] is not None
    assert np.allclose(batch[0], embed("Bike ride in the Alps"), atol=1e-5)  # a batch reads each text alone


def test_the_index_is_saved_restored_and_refuses_a_foreign_file(tmp_path: Path) -> None:
    from stoa.feeds.similar import SimilarityIndex

    path = tmp_path / "similar" / "local.usearch"
    built = SimilarityIndex(capacity=10, path=path)
    texts = {101: "Ciclismo sulle Dolomiti #ciclismo", 102: "Sugo di pomodoro #cucina", 103: "Salita in bici"}
    vectors = {k: embed(t) for k, t in texts.items()}
    built.index.add(np.array(list(vectors), dtype=np.uint64), np.stack(list(vectors.values())))
    built.order.extend(vectors)
    built.save()
    restored = SimilarityIndex(capacity=10, path=path)
    assert restored.ready and restored.last_id == 103 and list(restored.order) == [101, 102, 103]
    taste = embed("In bici sulle Dolomiti, che salita #ciclismo")
    assert taste is not None
    nearest = restored.search(taste, 2)
    assert set(nearest) == {101, 103}

    path.write_bytes(b"not an index" * 100)
    damaged = SimilarityIndex(capacity=10, path=path)
    assert not damaged.ready and len(damaged.index) == 0  # rebuilt from the store instead
