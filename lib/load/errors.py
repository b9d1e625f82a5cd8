"""The one exception the loaders raise: a message written for the sales leader who uploaded."""


class LoadError(Exception):
    """A file that cannot be used, with a message that says what is wrong and what was expected."""
