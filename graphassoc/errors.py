"""Errors users can act on. The CLI prints their message as one line and exits with exit_code."""


class GraphassocError(Exception):
    """Base class: the message says what is wrong and how to fix it."""

    exit_code = 1


class UsageError(GraphassocError):
    """A bad argument, option or config value (exit 2)."""

    exit_code = 2


class DataError(GraphassocError):
    """The input data cannot be used as it is (exit 1)."""

    exit_code = 1
