"""CPU cost of a piece of work on input n and 2n, measured in the same run (the house rule for
parsers over sender input: a scan that goes back and forth shows up as a ratio near 4).

process_time counts this process's CPU only, so other work on the machine moves it little; the
least of a few rounds is the one it moved least.
"""

import gc
import math
import time
from collections.abc import Callable
from typing import Any

# Linear work doubles; quadratic work quadruples. Between the two, with room for noise.
LINEAR_AT_MOST = 3.0
# Each measurement repeats the work until it takes at least this long: a single fast call is
# below the clock's useful resolution.
MEASURED_SECONDS = 0.02


def cpu_seconds(work: Callable[[], Any]) -> float:
    """CPU time of `work`, with the cyclic garbage collector paused: a full collection walks the
    whole process (pytest's and Django's objects: ~30 ms here) and comes in whole units, one in
    the n run and two in the 2n run, which would swamp the work measured. Its own cost is
    amortised linear in what is allocated (CPython runs one when a quarter of the long-lived
    objects are new)."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        work()
        return time.process_time() - started
    finally:
        gc.enable()


def growth(run: Callable[[Any], Any], small: Any, large: Any, *, rounds: int = 5) -> float:
    """Least CPU time of `run(large)` over that of `run(small)`, each repeated alike, the two
    measured in turn so that a change in the machine's load falls on both."""
    once = cpu_seconds(lambda: run(small))
    repeat = max(1, math.ceil(MEASURED_SECONDS / max(once, 1e-6)))

    def repeated(value: Any) -> Callable[[], None]:
        def work() -> None:
            for _ in range(repeat):
                run(value)

        return work

    least = {"small": math.inf, "large": math.inf}
    for _ in range(rounds):
        least["small"] = min(least["small"], cpu_seconds(repeated(small)))
        least["large"] = min(least["large"], cpu_seconds(repeated(large)))
    return least["large"] / least["small"]
