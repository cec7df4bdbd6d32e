"""Named corpora: local copies through RNNLAB_DATA, checked downloads (from file:// URLs here)."""

import hashlib
import sys

import pytest

from rnnlab.data import corpora
from rnnlab.data.corpora import Corpus, RemoteFile
from rnnlab.errors import RnnlabError
from tests.conftest import SHARED_DATA


@pytest.fixture
def fake_corpus(tmp_path, monkeypatch):
    source = tmp_path / "upstream.txt"
    source.write_text("some words\n" * 10)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    corpus = Corpus("fake", "a test corpus", "word", (RemoteFile("fake/train.txt", source.as_uri(), digest),))
    monkeypatch.setitem(corpora.CORPORA, "fake", corpus)
    return corpus


def test_download_verifies_and_caches(fake_corpus):
    root = corpora.download("fake", progress=lambda _: None)
    assert (root / "fake/train.txt").read_text().startswith("some words")
    assert corpora.locate("fake")["fake/train.txt"] == root / "fake/train.txt"
    assert corpora.status("fake").startswith("here")


def test_checksum_mismatch_keeps_nothing(fake_corpus, monkeypatch):
    bad = Corpus("fake", "", "word", (RemoteFile("fake/train.txt", fake_corpus.files[0].url, "0" * 64),))
    monkeypatch.setitem(corpora.CORPORA, "fake", bad)
    with pytest.raises(RnnlabError, match="checksum mismatch"):
        corpora.download("fake", progress=lambda _: None)
    assert not (corpora.cache_dir() / "fake/train.txt").exists()


def test_rnnlab_data_is_used_before_the_cache(tmp_path, monkeypatch, fake_corpus):
    local = tmp_path / "local"
    (local / "fake").mkdir(parents=True)
    (local / "fake/train.txt").write_text("local copy\n")
    monkeypatch.setenv("RNNLAB_DATA", str(local))
    assert corpora.locate("fake")["fake/train.txt"] == local / "fake/train.txt"


def test_unknown_corpus():
    with pytest.raises(RnnlabError, match="unknown corpus"):
        corpora.download("nope")


def test_python_stdlib_is_always_there():
    text = corpora.python_stdlib_text(max_chars=50_000)
    assert len(text) == 50_000 and "def " in text


@pytest.mark.skipif(not (SHARED_DATA / "ptb").is_dir(), reason="shared data absent")
def test_ptb_matches_the_published_counts():
    from rnnlab.config import DataConfig
    from rnnlab.tasks.language_model.data import prepare_text
    _, vocab, ids = prepare_text(DataConfig(corpus="ptb", level="word"))
    assert len(vocab) == 10_000
    assert (ids["train"].numel(), ids["valid"].numel(), ids["test"].numel()) == (929_589, 73_760, 82_430)
    for name in ("ptb", "tinyshakespeare", "holmes-ja"):
        assert all(p.is_file() for p in corpora.locate(name).values())


def test_the_cache_follows_the_platform_unless_rnnlab_cache_is_set(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "mine"))
    assert corpora.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("RNNLAB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    from platformdirs import user_cache_path
    assert corpora.cache_dir() == user_cache_path("rnnlab", appauthor=False)
    if sys.platform.startswith("linux"):
        assert corpora.cache_dir() == tmp_path / "xdg" / "rnnlab"


def test_the_dialogue_corpus_is_in_the_one_table():
    from rnnlab.tasks.dialogue.data import DIALOGUE_CORPORA
    from rnnlab.tasks.registry import choose_task

    corpus = corpora.CORPORA["mrmp-chat-ja"]
    assert corpus.task == "dialogue" and DIALOGUE_CORPORA == {"mrmp-chat-ja": corpus.folder}
    assert choose_task("mrmp-chat-ja").name == "dialogue"
    dialogues = [f for f in corpus.files if f.relpath.startswith(corpus.folder + "/")]
    assert len(dialogues) == 477 and all(f.relpath.endswith(".json") and len(f.sha256) == 64 for f in dialogues)
    assert all(f.url.startswith("https://raw.githubusercontent.com/nu-dialogue/") for f in corpus.files)
    assert any(f.relpath.endswith("/LICENSE") for f in corpus.files)          # CC BY-SA 4.0 travels with it


@pytest.mark.skipif(not (SHARED_DATA / "dialogue" / "mrmp-chat-ja").is_dir(), reason="shared data absent")
def test_the_dialogue_manifest_matches_a_copy_of_the_corpus(monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(SHARED_DATA))
    for relpath, path in corpora.locate("mrmp-chat-ja").items():
        assert corpora.sha256_of(path) == next(f.sha256 for f in corpora.CORPORA["mrmp-chat-ja"].files
                                               if f.relpath == relpath)
    assert corpora.status("mrmp-chat-ja").startswith("here")
