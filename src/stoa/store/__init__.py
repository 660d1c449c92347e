"""The store layer: the only layer that knows where rows live."""
