"""Exit codes of the ``atlas`` command beyond 0 (done), 1 (error) and 2 (refused or misused), and
the one place that turns a journal's refusal to be opened into a sentence and an exit code.

- ``EXIT_JOURNAL_LOCKED`` (75, ``EX_TEMPFAIL``): the journal or data folder is in use by another
  writer (a running ``atlas serve``, another command); nothing was written. Stop it, or send the
  command to the server, and try again.
- ``EXIT_JOURNAL_DAMAGED`` (65, ``EX_DATAERR``): the journal lost events (a cut WAL, a flipped
  byte, a quarantined chunk): ``atlas replay`` reports it, ``atlas serve`` and writing commands
  refuse it; ``atlas serve --repair-journal`` records the loss and carries on above it.
- ``EXIT_CONFIG`` (78, ``EX_CONFIG``): the configuration is wrong: ``accounts.yaml`` does not
  validate (file, line and key named), or a venue account's API key cannot be read (no master
  key, a wrong one, no such entry, Vault unreachable), or the policy parameter file
  (``policy_params_file``) is wrong. Nothing was started.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from atlas_oms.runtime.policy_params import ParamError
from atlas_oms.store.base import JournalDamagedError, JournalLockedError
from atlas_oms.venues.accounts import AccountsConfigError
from atlas_oms.venues.credentials import CredentialsError

__all__ = ["EXIT_CONFIG", "EXIT_JOURNAL_DAMAGED", "EXIT_JOURNAL_LOCKED", "guarded"]

#: Another writer holds the journal or the data folder.
EXIT_JOURNAL_LOCKED = 75
#: The journal lost events; refused until repaired on purpose.
EXIT_JOURNAL_DAMAGED = 65
#: The configuration (accounts.yaml, venue API keys) is wrong; nothing was started.
EXIT_CONFIG = 78


def guarded(name: str, run: Callable[[], int]) -> int:
    """Run a command; a locked or damaged journal becomes one sentence on stderr and its code."""
    try:
        return run()
    except JournalLockedError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_JOURNAL_LOCKED
    except JournalDamagedError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_JOURNAL_DAMAGED
    except (AccountsConfigError, CredentialsError, ParamError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        # The reader went away (``atlas ... | head``): the work is done, nothing more to say.
        # stdout is pointed at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
