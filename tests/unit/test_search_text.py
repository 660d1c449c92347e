from stoa.social import search_text


def test_documents_hold_words_and_stems_in_the_posts_language() -> None:
    doc = search_text.document("Città e ciclisti", "it").split()
    assert "citta" in doc and "ciclist" in doc


def test_queries_match_any_form_of_each_word() -> None:
    assert search_text.fts5_query("Cycling") == '("cycl" OR "cycling")'
    assert search_text.tsquery("Cycling") == "('cycl' | 'cycling')"
    assert search_text.fts5_query("   ") is None


def test_query_syntax_cannot_be_injected() -> None:
    query = search_text.fts5_query('NEAR(" OR *) "quoted" -minus')
    assert query is not None and "*" not in query and "NEAR(" not in query


def test_language_guess() -> None:
    assert search_text.detect_language("the cat is on the mat and it is happy") == "en"
    assert search_text.detect_language("il gatto è sul tappeto e non per la casa") == "it"
    assert search_text.detect_language("le chat est dans la maison avec les enfants") == "fr"
    assert search_text.detect_language("ok") is None
