import pytest

from stoa.core.errors import ValidationFailed
from stoa.social import oauth


def test_top_level_scopes_cover_their_children() -> None:
    assert oauth.scope_allows({"read"}, "read:statuses")
    assert not oauth.scope_allows({"read"}, "write:statuses")
    assert oauth.scope_allows({"follow"}, "write:follows")
    assert not oauth.scope_allows({"read:accounts"}, "read:statuses")


def test_unknown_scopes_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        oauth.parse_scopes("read everything")
    assert oauth.parse_scopes("read+write") == ["read", "write"]
