"""The one exception the loaders raise: a message written for the sales leader who uploaded."""

from lib.errors import PlainError


class LoadError(PlainError):
    """A file that cannot be used, with a message that says what is wrong and what was expected."""
