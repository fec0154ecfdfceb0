"""The package version, read by hatchling and the server."""

__version__ = "0.1.0"
