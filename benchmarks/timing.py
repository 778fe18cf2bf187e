"""What the latency benchmarks share: time until something shows, and p50/p95 of the times."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def seconds_until(condition: Callable[[], bool], limit: float, what: str) -> float:
    """Poll ``condition`` every 5 ms from now; the seconds it took, or stop the benchmark."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > limit:
            raise SystemExit(f"{what} within {limit:.0f} s")
        time.sleep(0.005)
    return time.perf_counter() - started


def latency_line(label: str, seconds: list[float], goal: str) -> str:
    ordered = sorted(seconds)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (f"{label} over {len(ordered)}: p50 {statistics.median(ordered) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms ({goal})")
