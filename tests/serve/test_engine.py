"""The engine batches clients' one-step requests; batched and one-at-a-time give the same answers."""

from __future__ import annotations

import asyncio

import pytest

from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.protocol import InputError
from rnnlab.serve.sessions import ServeSettings


def play(hub: Hub, primes: list, steps: int) -> list[list]:
    """Every session feeds its prime, then its own greedy outputs, all sessions at once."""
    async def one(session, prime):
        out, seen = await hub.step(session, None, prime), []
        for _ in range(steps):
            seen.append(out.get("id", out.get("values")))
            out = await hub.step(session, None, [out["id"]] if "id" in out else out["values"])
        return seen

    async def together():
        sessions = [hub.sessions.create() for _ in primes]
        for session in sessions:
            session.configure({"greedy": True})
        return await asyncio.gather(*(one(s, p) for s, p in zip(sessions, primes)))

    return asyncio.run(together())


@pytest.mark.parametrize("name, primes", [("chars", ["the c", "on th", "dog", "mat.\n", "l"]),
                                          ("wave", [[0.1, 0.9], [[0.5, -0.5], [0.6, -0.4]], [-1.0, 0.0]])])
def test_batched_steps_match_one_at_a_time(runs, name, primes):
    models = lambda: load_models([str(runs[name])])
    batched, single = Hub(models(), ServeSettings(max_batch=64)), Hub(models(), ServeSettings(max_batch=1))
    try:
        together, alone = play(batched, primes, 12), play(single, primes, 12)
        assert batched.engine.batches > 0 and single.engine.batches == 0
        if name == "chars":
            assert together == alone
        else:
            assert all(abs(a - b) < 1e-5 for x, y in zip(together, alone) for u, v in zip(x, y) for a, b in zip(u, v))
    finally:
        batched.close()
        single.close()


def test_a_failing_request_does_not_stop_the_engine(runs):
    hub = Hub(load_models([str(runs["chars"])]))
    try:
        failed = hub.engine.call(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failed.result(10)
        assert hub.engine.call(lambda: 42).result(10) == 42
        session = hub.sessions.create()
        with pytest.raises(InputError, match="outside the vocabulary"):
            asyncio.run(hub.step(session, None, [10 ** 6]))
    finally:
        hub.close()


def test_quantized_models_answer_nearly_as_the_float_ones(runs):
    import torch
    plain = load_models([str(runs["chars"]), str(runs["wave"])])
    small = load_models([str(runs["chars"]), str(runs["wave"])], quantize=True)
    for name in ("chars", "wave"):
        a, b = plain[name], small[name]
        assert (getattr(b.model, "precision", "") == "int8" if name == "chars"
                else any("quantized" in type(m).__module__ for m in b.model.modules()))
        inputs = a.encode("the cat" if name == "chars" else [[0.1, 0.2], [0.3, 0.1]], 100)[0]
        pa, _ = a.model.step_logits(inputs, a.initial_state())
        pb, _ = b.model.step_logits(inputs, b.initial_state())
        assert torch.allclose(pa, pb, atol=0.05) and not torch.equal(pa, pb)


def test_a_request_its_client_gave_up_on_does_not_stop_the_engine(runs):
    """A cut stream cancels the step it waits for; the engine skips it and goes on serving."""
    import threading

    hub = Hub(load_models([str(runs["chars"])]))
    try:
        model = hub.models["chars"]
        release = threading.Event()
        busy = hub.engine.call(release.wait, 10)             # holds the engine while the step queues
        abandoned = hub.engine.step(model, model.start(), model.initial_state())
        assert abandoned.cancel()
        release.set()
        assert busy.result(10) is True
        session = hub.sessions.create()
        reply = asyncio.run(asyncio.wait_for(hub.step(session, None, "the"), 10))
        assert reply["type"] == "output"
        assert hub.engine.failure is None and hub.engine.thread.is_alive()
    finally:
        hub.close()


def test_an_engine_that_fails_answers_everyone_and_says_so(runs):
    from rnnlab.serve.engine import EngineFailed

    told = []
    hub = Hub(load_models([str(runs["chars"])]), on_failure=told.append)
    try:
        hub.engine._run = lambda pending: (_ for _ in ()).throw(MemoryError("a bug in the engine"))
        with pytest.raises(EngineFailed, match="a bug in the engine"):
            hub.engine.call(lambda: 1).result(10)
        hub.engine.thread.join(10)
        assert not hub.engine.thread.is_alive() and len(told) == 1
        with pytest.raises(EngineFailed):                    # later requests fail at once, never hang
            hub.engine.call(lambda: 1).result(1)
    finally:
        hub.close()


def test_the_engine_picks_threads_where_the_model_runs(runs):
    """--threads N is set on the engine's thread; by default each model and batch size class gets
    a tuner that times the steps (one per class, so a batch of many clients is timed apart)."""
    import torch

    from rnnlab.train.threads import ThreadTuner, usable_cores

    fixed = Hub(load_models([str(runs["chars"])]), ServeSettings(threads=1))
    try:
        session = fixed.sessions.create()
        assert asyncio.run(asyncio.wait_for(fixed.step(session, None, "the"), 10))["type"] == "output"
        assert list(fixed.engine.tuners.values()) == [None]                  # a fixed count: no tuner
        assert fixed.engine.call(torch.get_num_threads).result(10) == 1     # set where the model runs
    finally:
        fixed.close()
    timed = Hub(load_models([str(runs["chars"])]))
    try:
        session = timed.sessions.create()
        for _ in range(3):
            asyncio.run(asyncio.wait_for(timed.step(session, None, "a"), 10))
        tuners = list(timed.engine.tuners.values())
        assert len(tuners) == 1
        assert isinstance(tuners[0], ThreadTuner) if usable_cores() > 1 else tuners == [None]
        if usable_cores() > 1:
            assert sum(map(len, tuners[0].times.values())) == 3              # every step was timed
    finally:
        timed.close()


def test_a_served_language_model_steps_through_packed_weights_as_the_model_would(runs):
    import torch

    from rnnlab.generate.stepper import Stepper
    from rnnlab.tasks.registry import task_of_run

    served = load_models([str(runs["chars"])])["chars"]
    assert isinstance(served.model, Stepper)
    model = task_of_run(str(runs["chars"])).open_run(str(runs["chars"]), "best", "cpu").model.eval()
    ids = torch.tensor([[3], [5], [1], [4]])
    expected, _ = model.step_logits(ids, model.initial_state(1))
    state = served.model.initial_state(1)
    for token in ids:
        got, state = served.model.step_logits(token.view(1, 1), state)
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("paired", [True, False], ids=["lstm", "gru"])
def test_stacked_states_split_back_into_each_clients_own(paired):
    import torch

    from rnnlab.serve.engine import _stack, _unstack

    def state(seed):
        g = torch.Generator().manual_seed(seed)
        layer = lambda: torch.randn(1, 1, 3, generator=g)
        return [(layer(), layer()) if paired else layer() for _ in range(2)]

    clients = [state(seed) for seed in range(4)]
    back = _unstack(_stack(clients), len(clients))
    assert len(back) == 4
    for mine, theirs in zip(back, clients):
        for a, b in zip(mine, theirs):
            assert type(a) is type(b)
            pairs = zip(a, b) if paired else [(a, b)]
            assert all(x.shape == (1, 1, 3) and torch.equal(x, y) for x, y in pairs)


def test_a_batch_reaches_its_asyncio_clients_in_one_hand_over(runs, monkeypatch):
    """Six clients batched together are answered by one call on their event loop, not six wake-ups,
    and each gets its own answer."""
    import threading

    from rnnlab.serve import engine as engine_module

    handed: list[int] = []
    settle = engine_module._settle_here
    monkeypatch.setattr(engine_module, "_settle_here", lambda items: (handed.append(len(items)), settle(items)))
    hub = Hub(load_models([str(runs["chars"])]))
    try:
        async def together():
            started, release = threading.Event(), threading.Event()

            def hold():
                started.set()
                return release.wait(10)

            held = hub.engine.call(hold)                        # the steps queue up behind this call
            for _ in range(200):                                # once the engine's thread is inside it
                if started.is_set():
                    break
                await asyncio.sleep(0.05)
            sessions = [hub.sessions.create() for _ in range(6)]
            for session in sessions:
                session.configure({"greedy": True})
            steps = [asyncio.ensure_future(hub.step(s, None, prime)) for s, prime in zip(sessions, "abcdef")]
            await asyncio.sleep(0.2)
            release.set()
            replies = await asyncio.wait_for(asyncio.gather(*steps), 10)
            assert held.result(10) is True
            return replies

        replies = asyncio.run(together())
        assert handed == [6] and hub.engine.batches == 1
        alone = Hub(load_models([str(runs["chars"])]), ServeSettings(max_batch=1))
        try:
            singles = []
            for prime in "abcdef":
                session = alone.sessions.create()
                session.configure({"greedy": True})
                singles.append(asyncio.run(alone.step(session, None, prime))["id"])
        finally:
            alone.close()
        assert [reply["id"] for reply in replies] == singles
    finally:
        hub.close()
