"""Feeds: For You (candidates, ranking, policy, explanations, controls), trending and similarity, and the
recommender's offline evaluation. Built on the social domain's read models."""
