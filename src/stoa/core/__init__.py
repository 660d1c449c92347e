"""The kernel every domain package shares: the context an action runs in, and the domain errors."""
