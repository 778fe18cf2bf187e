"""Named points where a test can freeze the process, to kill it at an exact moment.

``AMENDS_FAILPOINT=name`` makes the process stop itself (SIGSTOP) when it reaches ``name``;
the test then SIGKILLs it, and checks that a restart loses nothing and repeats nothing.
``name:kill`` makes it kill itself there instead: a crash, for processes a test does not
start itself (parse processes). With the variable unset, a failpoint is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    wanted = os.environ.get("AMENDS_FAILPOINT")
    if wanted == name:
        os.kill(os.getpid(), signal.SIGSTOP)
    elif wanted == f"{name}:kill":
        os.kill(os.getpid(), signal.SIGKILL)
