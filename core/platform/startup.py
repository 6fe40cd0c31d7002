"""What a killed process left half done, put right when the next one starts (the CLI and the app alike)."""

from __future__ import annotations

from core.platform.credentials import recover_interrupted_rotation
from core.platform.key_file import CredentialError
from core.platform.sync_recovery import recover_interrupted_runs
from core.values.messages import message_of


def recover_at_start(language: str = "en") -> list[str]:
    """Close interrupted sync runs and settle an interrupted key rotation; one sentence per thing done.

    Runs are closed silently (their history says "interrupted"). A rotation's leftovers are finished or
    discarded with a sentence, so the person learns why their key file changed; when they cannot be
    (the folder is read-only), the sentence says so and what to do, and the command still runs.

    The sentences are Messages (a face says them in its language); ``language`` is the one the closed
    runs' history is written in.
    """
    recover_interrupted_runs(language)
    try:
        notice = recover_interrupted_rotation()
    except CredentialError as exc:
        notice = message_of(exc)
    return [notice] if notice else []
