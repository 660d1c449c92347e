"""The social domain: accounts, posts, follows, timelines. Plain Python, no HTTP."""
