"""How many CPU threads a repeated piece of work gets when the user did not say: whichever is faster now.

PyTorch's default, every core, collapses when another program is busy: a step split over two
threads waits at every barrier for the one that was descheduled (a 2x650 LSTM step takes 112 ms
instead of 9.5). The fastest count depends on the work and on what else runs, and both change,
so a `ThreadTuner` times the work itself: it tries each candidate for a few calls, keeps the
fastest, and tries again now and then, or at once when the work gets much slower. A look that
confirms the choice makes the next one twice as late (up to 16 times `every`): on a machine whose
load holds steady, trying the slower count costs less and less.
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager

import torch


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                       # not Linux
        return os.cpu_count() or 1


class ThreadTuner:
    """Chooses torch's intra-op thread count for one kind of call by timing calls (`with tuner.timed():`)."""

    def __init__(self, candidates: list[int] | None = None, trial: int = 4, every: int = 500, clock=time.perf_counter):
        cores = usable_cores()
        self.candidates = sorted(set(candidates or {1, cores}))
        self.trial, self.every, self.clock = trial, every, clock
        self.base_every = every
        self.best: int | None = None
        self.previous_best: int | None = None
        self.best_seconds = float("inf")
        self.queue = list(self.candidates)      # candidates still to try in this round
        self.seen: list[float] = []             # this candidate's (or the chosen one's) recent times
        self.calls_since_choice = 0

    @property
    def current(self) -> int:
        return self.queue[0] if self.queue else self.best

    @contextmanager
    def timed(self):
        threads = self.current
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        started = self.clock()
        yield
        self.record(self.clock() - started)

    def record(self, seconds: float) -> None:
        """One call's time under the current thread count."""
        self.seen.append(seconds)
        if self.queue:
            self.trying(seconds)
        else:
            self.calls_since_choice += 1
            recent = self.seen[-self.trial:]
            slower = len(recent) == self.trial and statistics.median(recent) > 2 * self.best_seconds
            if self.calls_since_choice >= self.every or slower:      # time for a look, or the machine changed
                if slower:
                    self.every = self.base_every
                self.previous_best = self.best
                self.queue, self.seen, self.best_seconds = list(self.candidates), [], float("inf")

    def trying(self, seconds: float) -> None:
        candidate = self.queue[0]
        # The first call after a change pays for starting threads; a candidate already far slower
        # than the best so far is dropped at once, so a bad choice costs a call or two, not a trial.
        settled = self.seen[1:]
        hopeless = self.seen[-1] > (4 if len(self.seen) == 1 else 2) * self.best_seconds
        if len(settled) < self.trial and not hopeless:
            return
        median = statistics.median(settled) if settled else seconds
        if median < self.best_seconds:
            self.best, self.best_seconds = candidate, median
        self.queue.pop(0)
        self.seen = []
        if not self.queue:
            self.calls_since_choice = 0
            if self.previous_best is not None:
                confirmed = self.best == self.previous_best
                self.every = min(2 * self.every, 16 * self.base_every) if confirmed else self.base_every


def tuner_for(threads: int) -> ThreadTuner | None:
    """A tuner when the user left the thread count to rnnlab (0) and there is more than one core;
    otherwise the count is set once and stays."""
    if threads:
        torch.set_num_threads(threads)
        return None
    return ThreadTuner() if usable_cores() > 1 else None


@contextmanager
def timed(tuner: ThreadTuner | None):
    """`with timed(tuner):` around one call; nothing when the thread count is fixed."""
    if tuner is None:
        yield
    else:
        with tuner.timed():
            yield
