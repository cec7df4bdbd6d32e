"""How many CPU threads a repeated piece of work gets when the user did not say: whichever is faster now.

PyTorch's default, every core, collapses when another program is busy: a step split over two
threads waits at every barrier for the one that was descheduled (a 2x650 LSTM step takes 112 ms
instead of 9.5). The fastest count depends on the work and on what else runs, and both change,
so a `ThreadTuner` times the work itself: it tries the candidates for a few calls each, in turns,
keeps the fastest (as soon as the counts are clearly apart, for long calls), and tries again now and
then, or at once when the work gets much slower. A look that
confirms the choice makes the next one twice as late (up to 16 times `every`): on a machine whose
load holds steady, trying the slower count costs less and less.

The first look skips the counts above the cores that other programs leave free (the run queue
says how many of them are busy): with one busy program on two cores, a single training call at two
threads can take seconds (each thread waits at every barrier for the other to be scheduled), more
than a short run has to spare. The regular looks try every count all the same.
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager

import torch


def others_running(reads: int = 5, pause: float = 0.002) -> float:
    """How many threads besides the caller are ready to run right now: the fewest Linux's run queue
    showed over a few reads (a program that keeps a core busy is in every read; our own threads
    that spin down after a parallel region are not). The 1-minute load average where there is no
    /proc/loadavg: it lags, but it is what the system says."""
    try:
        counts = []
        for read in range(reads):
            with open("/proc/loadavg") as loadavg:
                counts.append(int(loadavg.read().split()[3].split("/")[0]))
            if read + 1 < reads:
                time.sleep(pause)
        return max(min(counts) - 1, 0)
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return 0.0


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                       # not Linux
        return os.cpu_count() or 1


class ThreadTuner:
    """Chooses torch's intra-op thread count for one kind of call by timing calls (`with tuner.timed():`)."""

    def __init__(self, candidates: list[int] | None = None, trial: int = 4, every: int = 500, clock=time.perf_counter,
                 look_seconds: float = 0.0, max_trial: int = 64, load=None):
        cores = usable_cores()
        self.candidates = sorted(set(candidates or {1, cores}))
        self.trial, self.every, self.clock = trial, every, clock
        # short calls are timed for at least `look_seconds` per candidate (up to `max_trial` calls):
        # a handful of 2 ms calls says more about the scheduler than about the thread count
        self.look_seconds, self.max_trial = look_seconds, max(trial, max_trial)
        self.base_every = every
        self.best: int | None = None
        self.best_seconds = float("inf")
        self.previous_best: int | None = None
        self.calls_since_choice = 0
        self.recent: list[float] = []           # the chosen count's latest times
        self.start_look()
        if len(self.looking) > 1:        # the first look tries only the counts that fit the free cores
            free = int(cores - (load or others_running)() + 0.5)
            self.looking = [c for c in self.looking if c <= free] or self.looking[:1]

    def start_look(self) -> None:
        """Time every candidate again, taking turns call by call: a load that comes and goes during
        the look then weighs on all of them alike."""
        self.looking = list(self.candidates)
        self.times: dict[int, list[float]] = {c: [] for c in self.candidates}
        self.spent: dict[int, float] = {c: 0.0 for c in self.candidates}
        self.turn = 0

    @property
    def current(self) -> int:
        return self.looking[self.turn] if self.looking else self.best

    @contextmanager
    def timed(self, work: float = 1.0):
        """Time one call; `work` is its size where calls differ (rows of a beam-search step): the
        candidates are compared by time per unit of work."""
        threads = self.current
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        started = self.clock()
        yield
        self.record(self.clock() - started, work)

    def record(self, seconds: float, work: float = 1.0) -> None:
        """One call's own seconds, for `work` units of it, under the current count."""
        per_unit = seconds / max(work, 1e-12)
        if self.looking:
            self.spent[self.looking[self.turn]] += seconds
            self.trying(per_unit)
            return
        self.calls_since_choice += 1
        self.recent = (self.recent + [per_unit])[-self.trial:]
        slower = len(self.recent) == self.trial and statistics.median(self.recent) > 2 * self.best_seconds
        if self.calls_since_choice >= self.every or slower:      # time for a look, or the machine changed
            if slower:
                self.every = self.base_every
            self.previous_best = self.best
            self.start_look()

    def trying(self, seconds: float) -> None:
        candidate = self.looking[self.turn]
        self.times[candidate].append(seconds)
        # A candidate far slower than another's fastest call is dropped at once (its first call may pay
        # for starting threads, so it gets 4x there, 2x after): a bad count costs a call or two.
        others = [min(t) for c, t in self.times.items() if c != candidate and c in self.looking and t]
        if others and seconds > (4 if len(self.times[candidate]) == 1 else 2) * min(others):
            self.looking.remove(candidate)
        else:
            self.turn += 1
        waiting = [c for c in self.looking if not self.timed_enough(c)]
        if waiting and not self.clearly_apart():  # the next candidate still short of its calls
            self.turn %= len(self.looking)
            while self.looking[self.turn] not in waiting:
                self.turn = (self.turn + 1) % len(self.looking)
            return
        self.finish_look()

    def timed_enough(self, candidate: int) -> bool:
        """`trial` calls after the first and `look_seconds` of them (at most `max_trial` calls); long
        calls stop sooner, once a timed call or more add up to `trial` times `look_seconds`: five
        half-second training steps at a slow count would cost more than they tell."""
        calls, spent = len(self.times[candidate]), self.spent[candidate]
        if calls > self.max_trial:
            return True
        if calls > self.trial:
            return spent >= self.look_seconds
        return self.look_seconds > 0 and calls >= 2 and spent >= self.look_seconds * self.trial

    def clearly_apart(self) -> bool:
        """Long calls end a look as soon as every candidate has two timed calls (after its first) and
        a quarter second of them, and the fastest one's slowest call beats every other's fastest:
        the answer is plain, and more calls at the slow count would only cost."""
        timed = {c: self.times[c][1:] for c in self.looking}
        short = any(len(t) < 2 or self.spent[c] < self.look_seconds for c, t in timed.items())
        if self.look_seconds <= 0 or len(timed) < 2 or short:
            return False
        fastest = min(timed, key=lambda c: statistics.fmean(timed[c]))
        return all(max(timed[fastest]) < min(t) for c, t in timed.items() if c != fastest)

    def finish_look(self) -> None:
        # Throughput is what counts: the mean, not the median, so that a count whose calls now and then
        # stall behind another program (two threads on a busy machine) pays for its stalls. The first
        # call warms up and is left out.
        settled = {c: statistics.fmean(self.times[c][1:]) for c in self.looking}
        self.best = min(settled, key=settled.get)
        self.best_seconds = settled[self.best]
        self.looking, self.recent, self.calls_since_choice = [], [], 0
        if self.previous_best is not None:
            confirmed = self.best == self.previous_best
            self.every = min(2 * self.every, 16 * self.base_every) if confirmed else self.base_every


def tuner_for(threads: int) -> ThreadTuner | None:
    """A tuner when the user left the thread count to rnnlab (0) and there is more than one core;
    otherwise the count is set once and stays."""
    if threads:
        torch.set_num_threads(threads)
        return None
    return ThreadTuner(look_seconds=0.25) if usable_cores() > 1 else None


@contextmanager
def timed(tuner: ThreadTuner | None, work: float = 1.0):
    """`with timed(tuner):` around one call (of size `work`); nothing when the thread count is fixed."""
    if tuner is None:
        yield
    else:
        with tuner.timed(work):
            yield
