"""The one error ci-sim raises for bad input from a user."""


class InputError(Exception):
    """Bad input from a user: the message is one line naming the file, the key and what is allowed."""
