"""The one family of errors a person can fix.

Every refusal in core derives from :class:`FakturkaError`; its text is one
sentence naming the problem and, where there is one, the fix. The command
line prints any of them as that sentence with exit code 1, and the terminal
app shows any of them as a notification. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class FakturkaError(Exception):
    """A refusal meant for the person: the message says what is wrong and what to do."""
