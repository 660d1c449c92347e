"""Media: images (and, with issue #4, video) — decoded, cleaned, stored."""
