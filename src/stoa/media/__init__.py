"""Media: images and video — probed, decoded under limits, re-encoded without metadata, stored, served."""
