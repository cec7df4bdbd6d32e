"""The exported model in a browser: the page of examples/browser in headless Chromium (Debian's, through
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
