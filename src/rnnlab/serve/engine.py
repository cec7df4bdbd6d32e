"""The engine: one worker thread that runs every model call of the server.

One-step requests for the same model that queue up together run as a single batch (their states
stacked, their samples drawn in one call), so twenty clients cost little more than one. Whatever a
client does (cancel, disconnect, send nonsense) the thread goes on; should it fail all the same,
every waiting request is told and the server exits instead of hanging.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from dataclasses import dataclass

import torch

from rnnlab.models.recurrent import State
from rnnlab.serve.protocol import ServedModel
from rnnlab.train.threads import ThreadTuner, timed, tuner_for


def _stack(states: list[State]) -> State:
    """Per-client states (each batch 1) as one batched state: layer by layer, along dim 1."""
    layers = []
    for parts in zip(*states):
        if isinstance(parts[0], tuple):
            layers.append(tuple(torch.cat(group, dim=1) for group in zip(*parts)))
        else:
            layers.append(torch.cat(parts, dim=1))
    return layers


def _unstack(state: State, count: int) -> list[State]:
    """A batched state back as `count` per-client states (each batch 1), views of it: one split
    per tensor rather than one slice per client and tensor."""
    paired = [isinstance(s, tuple) for s in state]                    # (h, c) for an LSTM layer
    layers = [[t.split(1, dim=1) for t in s] if pair else s.split(1, dim=1) for s, pair in zip(state, paired)]
    return [[tuple(parts[i] for parts in layer) if pair else layer[i] for layer, pair in zip(layers, paired)]
            for i in range(count)]


@dataclass
class _Step:
    model: ServedModel
    inputs: torch.Tensor                   # (time, 1) ids or (time, 1, features)
    state: State
    future: concurrent.futures.Future | _Waiting
    sampling: tuple | None = None          # (SamplingConfig, generator): sample on the engine's thread


class EngineFailed(RuntimeError):
    """The engine's thread stopped on an error of its own: the server can no longer step any model."""


def _settle(future: concurrent.futures.Future, result=None, error: BaseException | None = None) -> None:
    """Hand a result to a waiting client; one that gave up waiting (a cut stream) is skipped."""
    if future.done():                          # cancelled by its client while the engine worked
        return
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except concurrent.futures.InvalidStateError:   # cancelled between the check and the hand-over
        pass


class _Waiting:
    """An asyncio client's side of a step: the future it awaits and the loop that future lives on.
    Results for clients of one loop go over in one call per batch, not one wake-up per client."""

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future):
        self.loop, self.future = loop, future

    def cancelled(self) -> bool:
        return self.future.cancelled()


def _settle_here(handed: list) -> None:
    """On the clients' loop: (asyncio future, result, error) triples; a cancelled one is skipped."""
    for future, result, error in handed:
        _settle(future, result, error)


def _hand_over(answers: list) -> None:
    """(waiting, result, error) triples to their clients: concurrent futures at once, asyncio
    futures in one call per loop."""
    loops: dict = {}
    for waiting, result, error in answers:
        if isinstance(waiting, _Waiting):
            loops.setdefault(waiting.loop, []).append((waiting.future, result, error))
        else:
            _settle(waiting, result, error)
    for loop, handed in loops.items():
        try:
            loop.call_soon_threadsafe(_settle_here, handed)
        except RuntimeError:                   # that loop is closed: nobody waits there any more
            pass


class Engine:
    """A worker thread that runs every model call; waiting one-step calls of a model run batched,
    and their samples are drawn there too, in one call for clients with the same settings.

    Whatever a client does (cancel, disconnect, send nonsense) the thread goes on. Should it fail
    all the same, every waiting and later request gets `EngineFailed` and `on_failure` is told, so
    that the server can say so and exit instead of hanging.
    """

    def __init__(self, max_batch: int = 64, on_failure=None, threads: int = 0):
        self.max_batch = max(1, max_batch)
        self.threads = threads
        self.tuners: dict[tuple, ThreadTuner | None] = {}    # (model, batch size class) -> its tuner
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.batches = 0                    # batched calls made (for tests and the benchmark)
        self.failure: BaseException | None = None
        self.on_failure = on_failure
        self.pending: list = []             # the jobs taken from the queue and not yet answered
        self.thread = threading.Thread(target=self._work, name="rnnlab-engine", daemon=True)
        self.thread.start()

    def step(self, model: ServedModel, inputs: torch.Tensor, state: State,
             sampling: tuple | None = None) -> concurrent.futures.Future:
        """Future of (params (1, P), new state, sample or None) after feeding `inputs` from `state`."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._submit(_Step(model, inputs, state, future, sampling), future)
        return future

    def call(self, function, *args) -> concurrent.futures.Future:
        """Run any function on the engine's thread (generation, anything touching a model)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._submit((function, args, future), future)
        return future

    def _submit(self, job, future: concurrent.futures.Future) -> None:
        if self.failure is not None:
            future.set_exception(EngineFailed(f"the model engine stopped: {self.failure!r}"))
        else:
            self.jobs.put(job)

    async def astep(self, model, inputs, state, sampling=None):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.jobs.put(_Step(model, inputs, state, _Waiting(loop, future), sampling))
        if self.failure is not None and not future.done():     # failed before or as the step went in
            future.set_exception(EngineFailed(f"the model engine stopped: {self.failure!r}"))
        return await future

    async def acall(self, function, *args):
        return await asyncio.wrap_future(self.call(function, *args))

    def close(self) -> None:
        self.jobs.put(None)

    def _work(self) -> None:
        try:
            self._loop()
        except BaseException as err:             # a bug of ours: fail loudly, never leave clients waiting
            self.failure = err
            self._fail_waiting()
            if self.on_failure is not None:
                self.on_failure(err)

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            pending = self.pending = [job]
            while len(pending) < self.max_batch:
                try:
                    pending.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            if None in pending:
                self._run(pending[:pending.index(None)])
                return
            self._run(pending)

    def _fail_waiting(self) -> None:
        error = EngineFailed(f"the model engine stopped: {self.failure!r}")
        waiting = list(self.pending)
        while True:
            try:
                waiting.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        _hand_over([(job.future if isinstance(job, _Step) else job[2], None, error)
                    for job in waiting if job is not None])

    def _run(self, pending: list) -> None:
        groups: dict[int, list[_Step]] = {}
        for job in pending:
            if isinstance(job, _Step):
                if job.future.cancelled():          # its client gave up: nothing to compute
                    continue
                if job.inputs.size(0) == 1:
                    groups.setdefault(id(job.model), []).append(job)
                else:
                    self._guard([job], lambda j=job: self._batched([j]))
            else:
                function, args, future = job
                if future.cancelled():
                    continue
                try:
                    _settle(future, function(*args))
                except Exception as err:           # handed to the waiting client, never kills the thread
                    _settle(future, error=err)
        for group in groups.values():
            self._guard(group, lambda g=group: self._batched(g))

    def _tuner(self, model: ServedModel, batch: int) -> ThreadTuner | None:
        """One tuner per model and batch size class: a lone client's step and twenty clients' batch
        may want different thread counts."""
        key = (model.name, min(batch.bit_length(), 6))
        if key not in self.tuners:
            self.tuners[key] = tuner_for(self.threads)
        return self.tuners[key]

    def _batched(self, group: list[_Step]) -> list:
        model = group[0].model
        with timed(self._tuner(model, sum(job.inputs.size(1) for job in group))):
            if len(group) == 1:
                params, state = model.model.step_logits(group[0].inputs, group[0].state)
                states = [state]
            else:
                self.batches += 1
                inputs = torch.cat([job.inputs for job in group], dim=1)        # (1, batch[, features])
                params, state = model.model.step_logits(inputs, _stack([job.state for job in group]))
                states = _unstack(state, len(group))
        samples = self._samples(model, params, group)
        return list(zip(params.split(1), states, samples))

    @staticmethod
    def _samples(model: ServedModel, params: torch.Tensor, group: list[_Step]) -> list:
        """One sample per job that asked; jobs with the same settings and no seed share one call."""
        out: list = [None] * len(group)
        shared: dict[tuple, list[int]] = {}
        for i, job in enumerate(group):
            if job.sampling is None:
                continue
            settings, generator = job.sampling
            if generator is None:
                shared.setdefault((settings.temperature, settings.top_k, settings.top_p, settings.greedy), []).append(i)
            else:
                out[i] = model.sample(params[i:i + 1], settings, generator)
        for rows in shared.values():
            drawn = model.sample(params[rows] if len(rows) < len(group) else params,
                                 group[rows[0]].sampling[0], None)
            for i, sample in zip(rows, drawn.split(1)):
                out[i] = sample
        return out

    @staticmethod
    def _guard(group: list[_Step], compute) -> None:
        try:
            results = compute()
        except Exception as err:                   # the model refused these inputs: tell their clients
            _hand_over([(job.future, None, err) for job in group])
            return
        _hand_over([(job.future, result, None) for job, result in zip(group, results)])
