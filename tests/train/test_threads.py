"""The thread tuner keeps the faster thread count, drops a hopeless one fast and looks again later."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

from rnnlab.train import threads
from rnnlab.train.threads import others_running as real_others_running
from rnnlab.train.threads import ThreadTuner, timed, tuner_for


@pytest.fixture(autouse=True)
def keep_thread_count(monkeypatch):
    """The tuner sets torch's thread count; the tests after these get it back. The machine running
    the tests counts as idle unless a test says otherwise."""
    monkeypatch.setattr(threads, "others_running", lambda: 0.0)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


class FakeClock:
    """Time that moves by what the current thread count costs, as the load says."""

    def __init__(self, cost: dict[int, float]):
        self.cost, self.now, self.pending = cost, 0.0, 0.0

    def __call__(self) -> float:
        self.now += self.pending
        self.pending = 0.0
        return self.now


def run(tuner: ThreadTuner, clock: FakeClock, calls: int) -> list[int]:
    used = []
    for _ in range(calls):
        with tuner.timed():
            clock.pending = clock.cost[torch.get_num_threads()]
            used.append(torch.get_num_threads())
    return used


def test_the_faster_count_is_kept_and_a_slow_one_costs_few_calls():
    busy = FakeClock({1: 0.010, 2: 0.100})             # another program holds a core: 2 threads collapse
    tuner = ThreadTuner([1, 2], trial=4, every=100, clock=busy)
    used = run(tuner, busy, 60)
    assert tuner.best == 1 and used[-1] == 1
    assert used.count(2) <= 1                          # dropped on its first call
    idle = FakeClock({1: 0.010, 2: 0.006})
    tuner = ThreadTuner([1, 2], trial=4, every=100, clock=idle)
    used = run(tuner, idle, 60)
    assert tuner.best == 2 and used[-40:] == [2] * 40


def test_it_looks_again_when_the_machine_changes():
    clock = FakeClock({1: 0.010, 2: 0.006})
    tuner = ThreadTuner([1, 2], trial=4, every=1000, clock=clock)
    run(tuner, clock, 30)
    assert tuner.best == 2
    clock.cost = {1: 0.010, 2: 0.100}                  # a busy program starts: 2 threads now far slower
    used = run(tuner, clock, 40)
    assert tuner.best == 1 and used[-20:] == [1] * 20
    clock.cost = {1: 0.010, 2: 0.006}                  # it stops: found again at the next regular look
    tuner.every = 20
    used = run(tuner, clock, 80)
    assert tuner.best == 2 and used[-10:] == [2] * 10


def test_looks_that_confirm_the_choice_grow_rarer():
    clock = FakeClock({1: 0.010, 2: 0.100})            # steady load: one thread stays the better
    tuner = ThreadTuner([1, 2], trial=4, every=100, clock=clock)
    used = run(tuner, clock, 6000)
    looks = sum(1 for a, b in zip(used, used[1:]) if a == 1 and b == 2)
    assert tuner.best == 1 and 3 <= looks <= 7        # at 100, 200, 400, 800, 1600, 1600, ... calls apart
    assert tuner.every == 1600
    clock.cost = {1: 0.010, 2: 0.006}                  # the load goes: the next look switches, and the
    for calls in range(1, 2001):                       # one after comes at the first interval again
        run(tuner, clock, 1)
        if tuner.best == 2:
            break
    assert tuner.best == 2 and calls <= 1600 + 10 and tuner.every == 100


def test_candidates_take_turns_so_a_passing_load_weighs_on_both():
    clock = FakeClock({1: 0.008, 2: 0.010})            # one thread is the faster...
    tuner = ThreadTuner([1, 2], trial=4, every=1000, clock=clock)
    used = []
    for call in range(12):
        with tuner.timed():
            burst = 0.05 if call < 4 else 0.0          # ...but another program is busy for the first calls
            clock.pending = clock.cost[torch.get_num_threads()] + burst
            used.append(torch.get_num_threads())
    assert used[:6] == [1, 2, 1, 2, 1, 2]
    assert tuner.best == 1                             # one after the other, the burst would pick 2


def test_short_calls_are_timed_for_long_enough_and_calls_compare_per_unit_of_work():
    clock = FakeClock({1: 0.002, 2: 0.0015})
    tuner = ThreadTuner([1, 2], trial=4, clock=clock, look_seconds=0.05, max_trial=40)
    used = run(tuner, clock, 200)
    assert tuner.best == 2
    assert used.count(1) == 25 and len(tuner.times[2]) == 34          # 0.05 s each, not 5 calls
    capped = ThreadTuner([1, 2], trial=4, clock=clock, look_seconds=10.0, max_trial=10)
    assert run(capped, clock, 40)[22:] == [2] * 18                    # at most 11 calls each
    sized = ThreadTuner([1, 2], trial=2, clock=clock)
    for call in range(6):                                             # 2 threads get the big calls,
        work = 1 if call % 2 == 0 else 10                             # but per row they are slower
        with sized.timed(work):
            clock.pending = work * {1: 0.001, 2: 0.0012}[torch.get_num_threads()]
    assert sized.best == 1


def test_an_explicit_thread_count_is_set_once_and_not_tuned():
    assert tuner_for(1) is None and torch.get_num_threads() == 1
    with timed(None):
        pass


def test_a_count_that_stalls_now_and_then_pays_for_its_stalls():
    clock = FakeClock({1: 0.009, 2: 0.006})            # two threads: usually faster, but every third call
    tuner = ThreadTuner([1, 2], trial=6, every=1000, clock=clock)     # stalls (not enough to drop it)
    calls_at_two = 0
    for _ in range(40):
        with tuner.timed():
            threads = torch.get_num_threads()
            calls_at_two += threads == 2
            stall = 0.011 if threads == 2 and calls_at_two % 3 == 0 else 0.0
            clock.pending = clock.cost[threads] + stall
    assert tuner.best == 1                             # median 6 ms, but 9.7 ms a call on average


def test_a_crowded_machine_starts_at_one_thread_and_tries_more_at_the_next_look(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    clock = FakeClock({1: 0.010, 2: 3.0})              # a two-thread call would take seconds
    tuner = ThreadTuner([1, 2], trial=4, every=50, clock=clock, load=lambda: 2.1)
    used = run(tuner, clock, 50)
    assert used == [1] * 50 and tuner.best == 1
    clock.cost = {1: 0.010, 2: 0.006}                  # the load went: the regular look finds two threads
    used = run(tuner, clock, 40)
    assert 2 in used[:12] and tuner.best == 2
    idle = ThreadTuner([1, 2], trial=4, clock=clock, load=lambda: 0.3)
    assert run(idle, clock, 2) == [1, 2]               # not crowded: both tried at once


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="reads Linux's run queue")
def test_others_running_counts_a_program_that_keeps_a_core_busy():
    spinning = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert real_others_running() >= 1
    finally:
        spinning.kill()
        spinning.wait()


def test_long_calls_end_a_look_sooner():
    clock = FakeClock({1: 0.35, 2: 0.25})              # steps of a third of a second: 1 s of each is enough
    tuner = ThreadTuner([1, 2], trial=4, clock=clock, look_seconds=0.25)
    used = run(tuner, clock, 12)
    assert used[:7] == [1, 2, 1, 2, 1, 2, 2]           # three calls at one thread and four at two, not five each
    assert tuner.best == 2 and used[7:] == [2] * 5


def test_the_first_look_tries_only_the_counts_that_fit_the_free_cores(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    clock = FakeClock({1: 0.010, 2: 0.070})            # one busy program: two threads wait at every barrier
    tuner = ThreadTuner([1, 2], trial=4, every=50, clock=clock, load=lambda: 1.0)
    assert run(tuner, clock, 20) == [1] * 20 and tuner.best == 1
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    sized = ThreadTuner([1, 4, 8], trial=4, clock=clock, load=lambda: 3.0)     # five cores free
    assert sized.looking == [1, 4]


def test_a_look_at_long_calls_ends_once_the_counts_are_clearly_apart():
    clock = FakeClock({1: 0.20, 2: 0.10})              # half-second-scale steps, two threads twice as fast
    tuner = ThreadTuner([1, 2], trial=4, clock=clock, look_seconds=0.25)
    used = run(tuner, clock, 10)
    assert used[:6] == [1, 2, 1, 2, 1, 2] and used[6:] == [2] * 4 and tuner.best == 2   # three calls each

    class Noisy(FakeClock):                            # every third call 1.4x as long: the counts overlap
        reads = 0

        def __call__(self):
            self.reads += 1
            if self.reads % 2 == 0 and (self.reads // 2) % 3 == 0:     # the end of every third call
                self.pending *= 1.4
            return super().__call__()

    noisy = Noisy({1: 0.20, 2: 0.15})
    tuner = ThreadTuner([1, 2], trial=4, clock=noisy, look_seconds=0.25)
    used = run(tuner, noisy, 8)
    assert tuner.looking                               # still timing after four calls each
