"""The one exception users see: a one-line message, printed by the CLI with exit code 2."""


class RnnlabError(Exception):
    """A problem with the user's input (file, option, run directory), not a bug."""
