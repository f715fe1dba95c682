"""The one error ci-sim raises for bad input from a user."""


class InputError(ValueError):
    """Bad input from a user: the message is one line naming the file, the key and what is allowed.

    A ``ValueError``, so that code driving ci-sim from Python (Mesa's batch_run, EMA Workbench,
    optimisers) can catch it as the standard library's error for a bad value.
    """
