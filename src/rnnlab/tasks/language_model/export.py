"""A language model's one-step function as ONNX, for onnxruntime (Python) or onnxruntime-web (a browser).

`rnnlab export RUN` writes into RUN/export (or --out; a shipped model `@name`: NAME-export here):

- `model.onnx`: inputs `ids` (1, 1) int64 and the recurrent state, one tensor per layer (h) or two
  for the LSTMs (h, c), each (1, 1, hidden) float32; outputs `logits` (1, vocab) and the new state
  (`h0_out`, `c0_out`, ...), in the order `vocab.json` lists them. Feeding a token and its state
  gives the next token's logits and the state after it: what `LanguageModel.step_logits` does.
- `vocab.json`: the tokens (id = position), how they join back into text (`level`: char, word,
  ja or events), the state tensors' names and shapes, the token to start from and `<unk>`'s id.
- `meta.json`: where it came from (the run folder's name, not its path: the folder may be published;
  checkpoint, cell, sizes, opset, exporter).

With `--page` the browser page (page/, shipped inside rnnlab) is copied beside them, and
onnxruntime-web's files into ort/ from --ort-dist, else from ./node_modules or
./examples/browser/node_modules of the current folder (an `npm install`); rnnlab downloads nothing.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import torch
from torch import nn

from rnnlab.data.tokenize import TextTokenizer
from rnnlab.errors import RnnlabError
from rnnlab.gallery import export_folder
from rnnlab.files import write_atomic
from rnnlab.models.recurrent import LSTM_CELLS

OPSET = 17
FORMAT = "rnnlab-onnx-1"
PAGE_DIR = Path(__file__).with_name("page")
PAGE_FILES = ("index.html", "rnnlab-web.js")
ORT_WEB_VERSION = "1.30.0"                  # the onnxruntime-web the page is tested with (examples/browser/package.json)
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_SEARCHED = ("node_modules/onnxruntime-web/dist", "examples/browser/node_modules/onnxruntime-web/dist")


class OneStep(nn.Module):
    """(ids (1, 1), *state tensors) -> (logits (1, vocab), *new state tensors): one step of the model."""

    def __init__(self, model: nn.Module, lstm: bool):
        super().__init__()
        self.model, self.lstm = model, lstm

    def forward(self, ids: torch.Tensor, *flat: torch.Tensor):
        state = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)] if self.lstm else list(flat)
        logits, new_state = self.model.step_logits(ids.t(), state)
        return (logits, *flatten_state(new_state))


def flatten_state(state) -> list[torch.Tensor]:
    return [t for layer in state for t in (layer if isinstance(layer, tuple) else (layer,))]


def state_names(config) -> list[str]:
    if config.model.cell in LSTM_CELLS:
        return [name for i in range(config.model.layers) for name in (f"h{i}", f"c{i}")]
    return [f"h{i}" for i in range(config.model.layers)]




def exportable(trained):
    """The run's language model, or one clear line on why it is not one."""
    from rnnlab.tasks.language_model.model import LanguageModel

    if not isinstance(trained.model, LanguageModel):
        raise RnnlabError(f"{trained.run.path}: not a token language model; `rnnlab export` takes text and "
                          "MIDI-event runs")
    return trained.model


def token_level(trained) -> str:
    """How the page joins tokens: the text's level (char, word, ja), or events for MIDI event tokens."""
    return trained.tokenizer.config.level if isinstance(trained.tokenizer, TextTokenizer) else "events"


def start_token(trained) -> str:
    """What the page feeds before any prime: the start of a line, as `rnnlab generate` does."""
    vocab = trained.vocab
    for token in ("<eos>", "\n"):
        if token in vocab.index:
            return token
    return vocab.tokens[-1]


EXPORT_MARKER = ".rnnlab-export"


def claim_export_folder(folder: Path) -> None:
    """Make `folder` an export folder, or refuse one that holds files rnnlab did not write there
    (an export is rewritten in place, so only an export folder may be written into)."""
    if folder.exists() and not folder.is_dir():
        raise RnnlabError(f"{folder}: exists and is not a folder; choose another --out")
    if folder.is_dir() and not (folder / EXPORT_MARKER).is_file():
        files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        if files and not is_older_export(folder):
            shown = ", ".join(files[:4]) + (", ..." if len(files) > 4 else "")
            raise RnnlabError(f"{folder}: holds other files ({shown}) and is not an rnnlab export; choose a new "
                              "or empty folder for --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / EXPORT_MARKER, json.dumps({"format": FORMAT}) + "\n")
    except OSError as err:
        raise RnnlabError(f"{folder}: cannot write the export there ({err.strerror or err})") from None


def is_older_export(folder: Path) -> bool:
    """An export written before the mark: its meta.json says so."""
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def export_run(run, out=None, which: str = "best", page: bool = False, ort_dist=None, log=print) -> Path:
    """Write model.onnx, vocab.json and meta.json for a text or MIDI-event run; returns the folder."""
    from rnnlab.tasks.registry import TASKS, task_of_run

    try:
        import onnx  # noqa: F401  (torch.onnx.export writes through it)
    except ImportError:
        raise RnnlabError("rnnlab export needs the onnx package: pip install 'rnnlab[export]'") from None

    task = task_of_run(run)
    if not task.exports:
        takes = ", ".join(t.name for t in TASKS.values() if t.exports)
        raise RnnlabError(f"{run}: a {task.name} run; `rnnlab export` takes language models over tokens "
                          f"({takes} runs)")
    trained = task.open_run(run, which, "cpu")
    model = exportable(trained).float().eval()
    config = trained.config
    folder = Path(out) if out else export_folder(trained.run.path)     # a shipped model's: NAME-export here
    claim_export_folder(folder)
    names = state_names(config)
    initial = flatten_state(model.initial_state(1))
    if len(initial) != len(names):
        raise RnnlabError(f"{trained.run.path}: the model's state has {len(initial)} tensors, the config "
                          f"implies {len(names)}")
    wrapper = OneStep(model, config.model.cell in LSTM_CELLS).eval()
    ids = torch.zeros(1, 1, dtype=torch.long)
    path = folder / "model.onnx"
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")       # the batch-size note about RNNs: the state is an input here
            torch.onnx.export(wrapper, (ids, *initial), str(path), input_names=["ids", *names],
                              output_names=["logits", *(f"{n}_out" for n in names)], opset_version=OPSET,
                              dynamo=False, do_constant_folding=True)
    except ImportError as err:
        raise RnnlabError(f"exporting to ONNX needs the onnx package ({err}): pip install 'rnnlab[export]'") from None
    shapes = [list(t.shape) for t in initial]
    vocab = trained.vocab
    payload = {"format": FORMAT, "level": token_level(trained), "modality": config.data.modality,
               "lowercase": isinstance(trained.tokenizer, TextTokenizer) and trained.tokenizer.config.lowercase,
               "tokens": vocab.tokens, "unk": vocab.index.get("<unk>"), "start": start_token(trained),
               "inputs": ["ids", *names], "outputs": ["logits", *(f"{n}_out" for n in names)],
               "state": [{"name": n, "shape": s} for n, s in zip(names, shapes)]}
    write_atomic(folder / "vocab.json", json.dumps(payload, ensure_ascii=False))
    m = config.model
    meta = {"format": FORMAT, "run": trained.run.path.resolve().name, "checkpoint": which, "cell": m.cell,
            "layers": m.layers, "hidden": m.hidden, "embed": m.embed_size, "vocabulary": len(vocab),
            "opset": OPSET, "exporter": "torch.onnx (TorchScript)", "torch": torch.__version__}
    write_atomic(folder / "meta.json", json.dumps(meta, indent=1))
    log(f"{folder}: model.onnx ({path.stat().st_size:,} bytes), vocab.json ({len(vocab)} tokens, level "
        f"{payload['level']}), meta.json")
    if page:
        copy_page(folder, ort_dist, log)
    return folder


def copy_page(folder: Path, ort_dist=None, log=print) -> None:
    """The browser page beside the model, and onnxruntime-web's files in ort/ when they can be found."""
    missing = [name for name in PAGE_FILES if not (PAGE_DIR / name).is_file()]
    if missing:
        raise RnnlabError(f"the browser page is missing from this rnnlab install ({PAGE_DIR / missing[0]}); "
                          "reinstall rnnlab")
    for name in PAGE_FILES:
        shutil.copy2(PAGE_DIR / name, folder / name)
    dist = find_ort_dist(ort_dist)
    if dist is not None:
        (folder / "ort").mkdir(exist_ok=True)
        for name in ORT_FILES:
            shutil.copy2(dist / name, folder / "ort" / name)
        log(f"{folder}: index.html, rnnlab-web.js and onnxruntime-web (from {dist}) in ort/; serve it with "
            f"`python -m http.server -d {folder}` and open http://127.0.0.1:8000/")
    else:
        log(f"{folder}: index.html and rnnlab-web.js, without onnxruntime-web (rnnlab downloads nothing): run "
            f"`npm install onnxruntime-web@{ORT_WEB_VERSION}` here and export again with --page, or pass "
            f"--ort-dist DIR (its dist folder), or copy {', '.join(ORT_FILES)} into {folder / 'ort'}")


def find_ort_dist(ort_dist=None) -> Path | None:
    """onnxruntime-web's dist folder: --ort-dist (refused in one line when it is not one), else the first of
    ORT_SEARCHED under the current folder that holds its files, else None."""
    def complete(dist: Path) -> bool:
        return all((dist / name).is_file() for name in ORT_FILES)

    if ort_dist:
        dist = Path(ort_dist).expanduser()
        if not complete(dist):
            raise RnnlabError(f"{dist}: not onnxruntime-web's dist folder (it lacks {ORT_FILES[0]} or its wasm "
                              f"files; `npm install onnxruntime-web@{ORT_WEB_VERSION}` puts them in "
                              "node_modules/onnxruntime-web/dist)")
        return dist
    return next((Path(where) for where in ORT_SEARCHED if complete(Path(where))), None)


def add_export_arguments(p) -> None:
    p.add_argument("run")
    p.add_argument("--out", help="folder to write (default: RUN/export)")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    p.add_argument("--page", action="store_true",
                   help="copy the browser page (and onnxruntime-web when installed) beside the model")
    p.add_argument("--ort-dist", help="onnxruntime-web's dist folder to copy with --page (default: "
                   "node_modules/onnxruntime-web/dist or examples/browser/node_modules/onnxruntime-web/dist "
                   "under the current folder, from `npm install`)")



def cmd_export(args) -> int:
    export_run(args.run, args.out, args.checkpoint, args.page, args.ort_dist)
    return 0
