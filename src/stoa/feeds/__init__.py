"""Feeds: the For You recommender (issue #5). Today: the offline evaluation and its models."""
