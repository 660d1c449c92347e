"""Stoa: an open, self-hostable public square."""

__version__ = "0.1.0"
