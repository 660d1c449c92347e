"""Stoa's own API extensions under /api/v1/stoa (documented in docs/api.md)."""
