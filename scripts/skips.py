"""What a test script does when a tool it needs is missing (imported by the scripts under
scripts/). Outside CI it says so and passes; under CI (`CI=true`, as `.ci/run` runs) a skipped
test group is a failure, so CI never passes on less than it says. `.ci/run` installs every tool."""

import os
import sys
from typing import NoReturn


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_group(name: str, reason: str) -> NoReturn:
    """Ends a script whose whole test group cannot run: `NAME: skipped (REASON)`, exit 0, or
    under CI a failure with the same reason, exit 1."""
    if under_ci():
        print(f"{name}: FAILED: {reason}; under CI=true a skipped test group fails (.ci/run installs what it needs)")
        print(f"{name}: 0 passed, 1 failed")
        sys.exit(1)
    print(f"{name}: skipped ({reason})")
    print(f"{name}: 0 passed, 0 failed (skipped: {reason.splitlines()[0] if reason else 'unavailable'})")
    sys.exit(0)
