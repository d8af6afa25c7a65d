"""The one base class of the errors that are the user's to fix.

A bad config value, an unreadable file or checkpoint, a dataset that cannot be built, a run
whose loss diverged: the message names the key or path and says what to do. The entry point
prints it as one line and exits 2; everything else is a bug and keeps its traceback.
"""


class UserError(Exception):
  """A mistake in what the user asked for or gave; str(error) is the whole message."""
