"""The package version, in a module of its own so that both halves can read it without
importing each other."""

__version__ = "0.1.0"
