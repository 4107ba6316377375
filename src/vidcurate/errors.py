"""Exceptions that stop a run before any media is opened."""


class ConfigError(ValueError):
    """A recipe, op parameter or command-line value is invalid; raised before any video is opened."""
