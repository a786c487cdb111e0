# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""The one exception type for user mistakes.

Entry scripts catch it and print its message as a single line (no traceback), so every message
must name what was wrong, the value received and what is allowed.
"""


class UserInputError(ValueError):
    """A bad config value, a missing or malformed dataset, or a checkpoint that does not fit.

    It subclasses ValueError so library callers that expect ValueError (the loss API, for one)
    can catch it as such.
    """
