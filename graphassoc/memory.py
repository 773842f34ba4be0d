"""Memory guard: a stage that would need more memory than the machine has stops before it allocates.

Every large allocation whose size is known in advance (a dense items x items matrix, a block of
scores, a co-occurrence table) asks `check_fits` first, which raises a MemoryBudgetError naming
the setting that changes the size, instead of letting the OS kill the process at 23 GB.
"""

from __future__ import annotations

import functools
import os

from graphassoc.errors import GraphassocError


class MemoryBudgetError(GraphassocError):
    """An allocation would exceed the memory available (exit 1); the message names the setting to change."""

    exit_code = 1


def available_bytes() -> int:
    """Memory available to this process now: MemAvailable, capped by a cgroup limit or GRAPHASSOC_MEMORY_GB."""
    override = os.environ.get("GRAPHASSOC_MEMORY_GB")
    if override:
        return int(float(override) * 2**30)
    avail = _meminfo_available()
    limit = _cgroup_limit()
    return min(avail, limit) if limit else avail


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62  # unknown (not Linux): do not block


@functools.lru_cache(maxsize=1)  # fixed for the process's life; reading it cost a tenth of a served request
def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path).read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.1f} GB"


def check_fits(nbytes: float, what: str, fix: str, fraction: float = 0.8) -> None:
    """Raise MemoryBudgetError if `nbytes` exceeds `fraction` of the available memory.

    `what` says what would be allocated ("a dense 62,400 x 62,400 float32 EASE matrix"), `fix` the
    setting that changes it ("set ease.method=sparse").
    """
    budget = available_bytes() * fraction
    if nbytes > budget:
        raise MemoryBudgetError(f"{what} would need {gib(nbytes)}, more than the {gib(budget)} this machine "
                                f"can spare; {fix}")
