"""The landing page (the Stoa web app is separate work)."""
