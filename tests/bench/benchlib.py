"""Helpers shared by the benchmark scripts of tests/bench/ (benchmarks, not tests)."""
import time


def best(fn, n):
    """The shortest of n runs of fn(), in seconds: the run least disturbed by the rest of the machine."""
    times = []
    for _ in range(n):
        t = time.monotonic()
        fn()
        times.append(time.monotonic() - t)
    return min(times)
