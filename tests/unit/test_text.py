from stoa.social import text


def test_render_escapes_everything_a_user_types() -> None:
    html = text.render('<script>alert("x")</script> & <b>bold</b>', "https://s.example", set())
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html


def test_mentions_link_only_to_existing_accounts() -> None:
    html = text.render("hi @alice and @ghost", "https://s.example", {"alice"})
    assert 'href="https://s.example/@alice"' in html
    assert "@ghost" in html and "s.example/@ghost" not in html


def test_hashtags_urls_and_paragraphs() -> None:
    html = text.render("Tour #Cycling\nhttps://example.org/a?b=1&c=2.\n\nSecond", "https://s.example", set())
    assert 'href="https://s.example/tags/cycling"' in html and "#<span>Cycling</span>" in html
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html  # trailing full stop is not part of the link
    assert html.count("<p>") == 2 and "<br>" in html


def test_parse_finds_unique_mentions_and_tags() -> None:
    parsed = text.parse("@Bob @bob #Tag #tag #123 email@example.org")
    assert parsed.mentions == ["bob"]
    assert parsed.hashtags == ["Tag"]


def test_javascript_urls_are_not_links() -> None:
    assert "href" not in text.render("javascript:alert(1)", "https://s.example", set())
