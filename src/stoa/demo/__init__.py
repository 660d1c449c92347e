"""The demo community and benchmark-sized ones, generated (not part of the domain: built from it)."""
