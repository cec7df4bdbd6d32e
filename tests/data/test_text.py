import codecs

import pytest

from rnnlab.data.aozora import looks_like_aozora
from rnnlab.data.text import read_text_file, read_text_source, split_contiguous, strip_gutenberg
from rnnlab.errors import RnnlabError
from tests.conftest import SHARED_DATA

AOZORA = """緋のエチュード
アーサー・コナン・ドイル

-------------------------------------------------------
【テキスト中に現れる記号について】

《》：ルビ
（例）博士《ドクター》
-------------------------------------------------------

［＃ページの左右中央］
第一章　ホームズくん［＃「第一章　ホームズくん」は中見出し］

　私は博士《ドクター》になった。｜倫敦《ロンドン》へ行く。［＃挿絵１入る］

［＃本文終わり］
翻訳の底本：Arthur Conan Doyle (1887)
翻訳者：大久保ゆう
"""


def test_aozora_shift_jis_is_decoded_and_cleaned(tmp_path):
    path = tmp_path / "novel.txt"
    path.write_bytes(AOZORA.replace("\n", "\r\n").encode("shift_jis"))
    text = read_text_file(path)
    assert "私は博士になった。倫敦へ行く。" in text
    for gone in ("《", "》", "［＃", "｜", "第一章", "底本", "翻訳者", "記号について", "緋のエチュード"):
        assert gone not in text


def test_plain_japanese_is_not_mistaken_for_aozora():
    assert not looks_like_aozora("ホームズは《笑った》。\n")


@pytest.mark.skipif(not (SHARED_DATA / "holmes/ja/55881_ruby_50043.txt").exists(), reason="shared data absent")
def test_real_aozora_file_matches_the_documented_body():
    text = read_text_file(SHARED_DATA / "holmes/ja/55881_ruby_50043.txt")
    assert "《" not in text and "［＃" not in text and "底本" not in text
    assert text.lstrip().startswith("一八七八年")
    assert 90_000 < len(text.replace("\n", "")) < 96_000


def test_gutenberg_wrapper_removed():
    text = "licence\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nbody\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nmore"
    assert strip_gutenberg(text) == "body\n"


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"\x00\x01\x02binary", "binary"), (b"\xff\xfe\xfa\xfb" * 3, "not UTF-8|it is not text")])
def test_bad_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(RnnlabError, match=message) as info:
        read_text_file(path)
    assert "bad.txt" in str(info.value) and "\n" not in str(info.value)


def test_folder_and_missing_path(tmp_path):
    (tmp_path / "b.txt").write_text("second")
    (tmp_path / "a.txt").write_text("first\n")
    (tmp_path / ".hidden.txt").write_text("no")
    assert read_text_source(tmp_path) == "first\nsecond\n"
    with pytest.raises(RnnlabError, match="no such file"):
        read_text_source(tmp_path / "nope.txt")


def test_contiguous_split_keeps_everything_in_order():
    text = "".join(f"line {i}\n" for i in range(1000))
    train, valid, test = split_contiguous(text, (0.9, 0.05, 0.05))
    assert train + valid + test == text
    assert train.endswith("\n") and valid.endswith("\n")
    assert 0.85 < len(train) / len(text) < 0.95 and len(test) > 0


def test_windows_unicode_text_with_a_bom_reads_and_bomless_utf16_needs_the_encoding(tmp_path):
    for name, data in (("le.txt", "Holmes sagte: «Ja».\n".encode("utf-16")),
                       ("be.txt", codecs.BOM_UTF16_BE + "Holmes sagte: «Ja».\n".encode("utf-16-be")),
                       ("32.txt", "Holmes sagte: «Ja».\n".encode("utf-32"))):
        (tmp_path / name).write_bytes(data)
        assert read_text_file(tmp_path / name) == "Holmes sagte: «Ja».\n"
    bare = tmp_path / "bare.txt"
    bare.write_bytes("plain words\n".encode("utf-16-le"))
    with pytest.raises(RnnlabError, match="bare.txt: looks like a binary file .*--encoding utf-16-le"):
        read_text_file(bare)
    assert read_text_file(bare, "utf-16-le") == "plain words\n"
