"""The Mastodon client API (https://docs.joinmastodon.org/methods/), served by Stoa."""
