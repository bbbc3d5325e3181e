"""In-process adapters for the embedded, single-process server."""
