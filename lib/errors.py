"""The base of every error Closeboard shows as it is: its message is written for a sales leader."""


class PlainError(Exception):
    """An error whose message says what is wrong and what to do; shown without a traceback."""
