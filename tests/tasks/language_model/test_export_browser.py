"""The exported model in a browser: the page `export --page` writes, in headless Chromium (Debian's, through
Playwright) runs model.onnx with onnxruntime-web, served as static files; its next-token distribution is
PyTorch's."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.config import build_config
from rnnlab.tasks.language_model.generate import prime_tokens
from rnnlab.tasks.registry import open_run, train

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ORT_DIST = Path(__file__).resolve().parents[3] / "examples" / "browser" / "node_modules" / "onnxruntime-web" / "dist"
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(not (ORT_DIST / "ort.wasm.min.mjs").is_file(),
                       reason="needs onnxruntime-web installed by npm in examples/browser (.ci/run does it)"),
]
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 30


class StaticFiles(SimpleHTTPRequestHandler):
    """`python -m http.server` as the README has it serve the folder (its types: .mjs, .wasm), quiet."""

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Two exports: a character LSTM (the page's own folder) and a word GRU (words/, opened with ?model=)."""
    pytest.importorskip("onnx", reason="needs the onnx package: pip install 'rnnlab[export]'")
    from rnnlab.tasks.language_model.export import export_run

    root = tmp_path_factory.mktemp("browser")
    corpus = root / "text.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    runs = {}
    for name, level, cell in (("chars", "char", "lstm"), ("words", "word", "gru")):
        overrides = {"data": {"corpus": str(corpus), "level": level},
                     "model": {"hidden": 12, "layers": 2, "embed": 8, "cell": cell},
                     "train": {"epochs": 3, "lr": 0.02, "batch_size": 4, "bptt": 8, "checkpoint_every": 0}}
        train(build_config("", overrides), root / name, log=lambda line: None)
        runs[name] = root / name
    site = root / "site"
    export_run(runs["chars"], site, page=True, ort_dist=ORT_DIST, log=lambda line: None)
    export_run(runs["words"], site / "words", log=lambda line: None)
    return site, runs


@pytest.fixture(scope="module")
def page(exported):
    site, _ = exported
    sync_api = pytest.importorskip("playwright.sync_api")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticFiles, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                tab = browser.new_page()
                errors = []
                tab.on("pageerror", lambda error: errors.append(str(error)))
                yield tab, f"http://127.0.0.1:{server.server_address[1]}/", errors
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def open_page(tab, url: str) -> None:
    tab.goto(url)
    tab.wait_for_function("window.rnnlabWeb && (window.rnnlabWeb.ready || window.rnnlabWeb.error)", timeout=60000)
    assert tab.evaluate("window.rnnlabWeb.error") is None


def pytorch_probabilities(run: Path, prime: str) -> tuple[list[int], np.ndarray]:
    trained = open_run(run, device="cpu")
    ids = trained.vocab.encode(prime_tokens(trained.tokenizer, trained.vocab, prime))
    model = trained.model.float().eval()
    logits, _ = model.step_logits(torch.tensor(ids).view(-1, 1), model.initial_state(1))
    return ids, logits[0].double().softmax(-1).numpy()


@pytest.mark.parametrize("which, query, prime", [("chars", "", "the ca"), ("chars", "", ""),
                                                 ("words", "?model=words/", "the cat\nthe dog sat")])
def test_page_gives_pytorchs_next_token_distribution(page, exported, which, query, prime):
    tab, url, errors = page
    open_page(tab, url + query)
    ids, expected = pytorch_probabilities(exported[1][which], prime)
    assert tab.evaluate("(prime) => window.rnnlabWeb.encode(prime)", prime) == ids
    got = np.array(tab.evaluate("(prime) => window.rnnlabWeb.probabilities(prime)", prime))
    assert got.shape == expected.shape and abs(got.sum() - 1) < 1e-6
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert expected.max() > 0.15         # trained a little: far from uniform (1/16), so a slip would show
    assert not errors


def test_generate_button_writes_the_prime_and_sampled_text(page):
    tab, url, errors = page
    open_page(tab, url)
    tab.fill("#prime", "the ")
    tab.fill("#length", "25")
    tab.click("#generate")
    tab.wait_for_function("!document.getElementById('generate').disabled", timeout=60000)
    text = tab.inner_text("#output")
    assert text.startswith("the ") and len(text.replace("<unk>", "?")) == len("the ") + 25   # a character a token
    assert not errors


# ---- sampling in the page: temperature, top-k, top-p, greedy, as rnnlab samples ------------------------
def python_distribution(logits, settings: dict) -> np.ndarray:
    """What rnnlab draws from (sampling.choose): the settings checked as the server checks them."""
    from rnnlab.generate.sampling import SamplingConfig, filter_logits

    config = SamplingConfig().changed(settings)
    scores = torch.tensor(logits, dtype=torch.float32).view(1, -1)
    if config.greedy:
        return torch.nn.functional.one_hot(scores.argmax(-1), scores.size(-1))[0].double().numpy()
    return filter_logits(scores / config.temperature, config.top_k, config.top_p).softmax(-1)[0].double().numpy()


SAMPLING = [{"top_k": 3}, {"top_p": 0.6, "temperature": 2.0}, {"top_k": 6, "top_p": 0.8, "temperature": 1.5},
            {"top_p": 0.9, "temperature": 1.6}, {"temperature": 0.5}, {"top_k": 1}, {"greedy": True}]


@pytest.mark.parametrize("which, query, prime", [("chars", "", "the ca"), ("words", "?model=words/", "the cat\nthe dog")])
def test_page_filters_the_next_token_distribution_as_rnnlab_does(page, exported, which, query, prime):
    tab, url, errors = page
    open_page(tab, url + query)
    logits = tab.evaluate("(prime) => window.rnnlabWeb.logits(prime)", prime)
    ids, pytorch = pytorch_probabilities(exported[1][which], prime)
    np.testing.assert_allclose(torch.tensor(logits).double().softmax(-1).numpy(), pytorch, atol=1e-4)  # same model
    vocabulary = len(logits)
    for settings in SAMPLING:
        got = np.array(tab.evaluate("([prime, s]) => window.rnnlabWeb.distribution(prime, s)", [prime, settings]))
        expected = python_distribution(logits, settings)
        kept = expected > 0
        assert ((got > 0) == kept).all(), (settings, np.flatnonzero(got), np.flatnonzero(kept))
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=str(settings))
        assert abs(got.sum() - 1) < 1e-9
        if "top_p" in settings:                                     # a real cut: not one token, not all
            assert 1 < kept.sum() < min(vocabulary, settings.get("top_k", vocabulary) + 1), settings
        elif "top_k" in settings:
            assert kept.sum() == settings["top_k"]
    assert not errors


def test_page_filter_keeps_ties_and_refuses_bad_settings_as_rnnlab(page):
    tab, url, errors = page
    open_page(tab, url)
    logits = [1.0, 2.0, 2.0, 0.5, 2.0, -1.0, 0.25]
    for settings in ({"top_k": 2}, {"top_k": 4}, {"greedy": True}, {"top_k": 7}, {"top_k": 50}, {"top_p": 0.05},
                     {"top_p": 0.999, "temperature": 3.0}, {"top_k": 5, "top_p": 0.95, "temperature": 0.3}):
        got = np.array(tab.evaluate("([l, s]) => window.rnnlabWeb.filter(l, s)", [logits, settings]))
        np.testing.assert_allclose(got, python_distribution(logits, settings), atol=1e-6, err_msg=str(settings))
    assert tab.evaluate("window.rnnlabWeb.filter([1, 2, 2, 0.5, 2], {top_k: 2})")[:3] == [0, 1 / 3, 1 / 3]
    for bad, reason in (({"top_p": 0}, "top_p must be in (0, 1]"), ({"temperature": 0}, "temperature must be"),
                        ({"top_k": -1}, "top_k must be"), ({"top_k": 1.5}, "top_k must be")):
        message = tab.evaluate("""(s) => { try { window.rnnlabWeb.filter([1, 2], s); return null; }
                                           catch (error) { return error.message; } }""", bad)
        assert message and reason in message, (bad, message)
    assert not errors


def test_page_samples_only_kept_tokens_and_seeds_repeat(page, exported):
    tab, url, errors = page
    open_page(tab, url)
    prime = "the "
    logits = tab.evaluate("(prime) => window.rnnlabWeb.logits(prime)", prime)
    for settings in ({"top_k": 4}, {"top_p": 0.7, "temperature": 1.3}, {"top_k": 8, "top_p": 0.9}):
        expected = python_distribution(logits, settings)
        drawn = tab.evaluate("([p, s]) => window.rnnlabWeb.samples(p, s, 7, 4000)", [prime, settings])
        counts = np.bincount(drawn, minlength=len(expected)) / len(drawn)
        assert set(drawn) <= set(np.flatnonzero(expected > 0).tolist()), settings      # only kept tokens
        np.testing.assert_allclose(counts, expected, atol=0.04, err_msg=str(settings))   # at their rates
        assert all(counts[i] > 0 for i in np.flatnonzero(expected > 0.02))
        again = tab.evaluate("([p, s]) => window.rnnlabWeb.samples(p, s, 7, 4000)", [prime, settings])
        other = tab.evaluate("([p, s]) => window.rnnlabWeb.samples(p, s, 8, 4000)", [prime, settings])
        assert again == drawn and other != drawn
    # whole generations: every token drawn from inside its step's kept set, a seed repeats the text
    run = """async ([prime, options]) => {
        const outside = [], kept = [];
        const text = await window.rnnlabWeb.generate(prime, { ...options, length: 40, onToken: (id, probs) => {
            if (!(probs[id] > 0)) outside.push(id);
            kept.push(probs.filter((p) => p > 0).length); } });
        return { text, outside, kept }; }"""
    first = tab.evaluate(run, [prime, {"top_k": 3, "temperature": 1.5, "seed": 11}])
    assert first["outside"] == [] and max(first["kept"]) <= 3 and len(first["text"]) > len(prime)
    assert tab.evaluate(run, [prime, {"top_k": 3, "temperature": 1.5, "seed": 11}]) == first
    nucleus = tab.evaluate(run, [prime, {"top_p": 0.5, "seed": 2}])
    assert nucleus["outside"] == [] and min(nucleus["kept"]) >= 1
    greedy = tab.evaluate(run, [prime, {"greedy": True}])
    assert tab.evaluate(run, [prime, {"top_k": 1, "seed": 5}])["text"] == greedy["text"]
    assert set(greedy["kept"]) == {1}
    assert not errors


def test_page_form_samples_with_its_settings_and_says_what_is_wrong(page):
    tab, url, errors = page
    open_page(tab, url)

    def press(**fields) -> str:
        for name, value in {"prime": "the ", "length": "20", "temperature": "1", "top_k": "0", "top_p": "1",
                            "seed": "", **fields}.items():
            tab.fill(f"#{name}", value)
        tab.click("#generate")
        tab.wait_for_function("!document.getElementById('generate').disabled", timeout=60000)
        return tab.inner_text("#output")

    tab.check("#greedy")
    greedy = press()
    tab.uncheck("#greedy")
    assert press(top_k="1", temperature="2") == greedy                     # top-k 1 is greedy
    seeded = press(top_p="0.8", seed="42")
    assert press(top_p="0.8", seed="42") == seeded and tab.inner_text("#problem") == ""
    before = tab.inner_text("#output")
    tab.fill("#top_p", "0")
    tab.click("#generate")
    assert "top_p must be in (0, 1]" in tab.inner_text("#problem") and tab.inner_text("#output") == before
    assert not errors
