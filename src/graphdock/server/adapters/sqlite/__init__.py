"""The embedded default: everything in one SQLite file, nothing to install or start."""
