from stoa.store.schema import classification, metadata


def test_every_table_is_classified_for_residency() -> None:
    classes = classification()
    assert set(classes) == set(metadata.tables)
    assert set(classes.values()) <= {"private", "public", "local"}


def test_private_tables_name_their_owner_column() -> None:
    for name, table in metadata.tables.items():
        if table.info["privacy"] == "private":
            owner = table.info.get("owner")
            assert owner in table.c, f"{name} has no owner column"


def test_what_design_calls_private_is_private() -> None:
    classes = classification()
    for name in ("users", "oauth_tokens", "favourites", "bookmarks", "blocks", "mutes", "notifications",
                 "home_feed", "markers"):
        assert classes[name] == "private", name
