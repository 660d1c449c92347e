"""Text vectors: posts about the same thing come out close, across English, Italian and French."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stoa.feeds.similar import DIM, embed, features


def cosine(a: str, b: str) -> float:
    va, vb = embed(a), embed(b)
    assert va is not None and vb is not None
    return float(va @ vb)


def test_same_topic_is_closer_than_another_topic_in_each_language() -> None:
    cycling = {
        "it": "Giro in bici sulle Dolomiti, salita dura ma che panorama #ciclismo",
        "fr": "Sortie à vélo dans les Alpes, montée difficile #cyclisme",
        "en": "Bike ride in the Alps today, tough climb #cycling",
    }
    cooking = {
        "it": "La ricetta della nonna: sugo di pomodoro e basilico #cucina",
        "fr": "La recette de ma grand-mère : sauce tomate et basilic #cuisine",
        "en": "Grandma's recipe: tomato sauce with basil #cooking",
    }
    liked = "Ciclismo in montagna: le salite delle Dolomiti in bici #ciclismo"
    for language in ("it", "fr", "en"):
        assert cosine(liked, cycling[language]) > cosine(liked, cooking[language]), language
    # Across languages, word stems shared by cognates (ciclismo, cyclisme) still tell the topics apart.
    assert cosine(liked, cycling["fr"]) > max(cosine(liked, text) for text in cooking.values())
    # Cognates carry across languages: the Italian tomato sauce is nearer the French one than the cycling post.
    assert cosine(cooking["it"], cooking["fr"]) > cosine(cooking["it"], cycling["fr"])


def test_vectors_are_unit_length_deterministic_and_ignore_noise() -> None:
    vector = embed("Hello @someone@example.org https://example.org/x #Café")
    assert vector is not None and vector.shape == (DIM,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert np.array_equal(vector, embed("Hello @someone@example.org https://example.org/x #Café"))
    names = features("Hello @someone@example.org https://example.org/x #Café")
    assert "w:cafe" in names and names["w:cafe"] == 2.0  # hashtag counts double, accents folded
    assert not any("example" in n or "someone" in n for n in names)  # links and mentions are not content
    assert embed("the and of @bob https://x.org") is None  # nothing to go on


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
    nearest = restored.search(embed("In bici sulle Dolomiti, che salita #ciclismo"), 2)  # type: ignore[arg-type]
    assert set(nearest) == {101, 103}

    path.write_bytes(b"not an index" * 100)
    damaged = SimilarityIndex(capacity=10, path=path)
    assert not damaged.ready and len(damaged.index) == 0  # rebuilt from the store instead
