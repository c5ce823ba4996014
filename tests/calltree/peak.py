"""A process's own peak resident size, for the memory ceilings of the bounded-reader tests."""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["peak_rss"]


def peak_rss() -> int:
    """This program's peak resident size in bytes.

    Read from ``VmHWM``: `ru_maxrss` carries over the forking parent's peak across exec on Linux,
    so a child started by a large test process would report the parent's size.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
