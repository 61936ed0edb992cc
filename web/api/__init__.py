"""The JSON and tile endpoints behind the pages."""
