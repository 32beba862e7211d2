class ActionRefused(Exception):
    """A user-facing refusal: bad input, a failed git operation, a state that forbids it.

    Views show the message on the page; commands print it and exit non-zero.
    """
