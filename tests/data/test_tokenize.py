import pytest

from rnnlab.data.tokenize import EOS, UNK, TextTokenizer, TokenizerConfig, Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.errors import RnnlabError


def test_char_round_trip():
    tok = TextTokenizer(TokenizerConfig("char"))
    text = "Hello,\nwörld — ホームズ!\n"
    assert tok.join(tok.split(text)) == text


def test_word_level_puts_one_eos_per_line():
    tok = TextTokenizer(TokenizerConfig("word"))
    tokens = tok.split(" the cat\n\na dog sat\n")
    assert tokens == ["the", "cat", EOS, EOS, "a", "dog", "sat", EOS]
    assert tok.join(tokens) == "the cat\n\na dog sat\n"


def test_vocabulary_frequency_order_and_limits():
    tokens = "a a a b b c d d d d".split()
    vocab = Vocabulary.build(tokens, [UNK, EOS], min_freq=2)
    assert vocab.tokens == [UNK, EOS, "d", "a", "b"]
    assert vocab.encode(["c", "a"]) == [vocab.unk_id, vocab.index["a"]]
    assert len(Vocabulary.build(tokens, [UNK], max_vocab=3)) == 3


def test_existing_unk_in_corpus_is_not_duplicated():
    vocab = Vocabulary.build(["<unk>", "x", "<unk>"], [UNK, EOS])
    assert vocab.tokens.count(UNK) == 1 and len(vocab) == 3


def test_vocabulary_file_round_trip(tmp_path):
    vocab = Vocabulary.build(list("abcab"), [UNK])
    save_vocabulary(tmp_path / "v.json", vocab, TokenizerConfig("char", True))
    loaded, payload = load_vocabulary(tmp_path / "v.json")
    assert loaded.tokens == vocab.tokens and payload["tokenizer"] == {"level": "char", "lowercase": True}


def test_corrupt_vocabulary_is_a_clear_error(tmp_path):
    (tmp_path / "v.json").write_text("{not json")
    with pytest.raises(RnnlabError, match="v.json"):
        load_vocabulary(tmp_path / "v.json")


def test_japanese_morphemes():
    pytest.importorskip("fugashi")
    tok = TextTokenizer(TokenizerConfig("ja"))
    tokens = tok.split("ホームズは笑った。\n")
    assert tokens[0] == "ホームズ" and tokens[-1] == EOS and len(tokens) >= 5
    assert tok.join(tokens) == "ホームズは笑った。\n"
