"""`rnnlab export --page`: the page ships inside the package; onnxruntime-web comes from --ort-dist or an
npm install under the current folder, never from the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnlab.errors import RnnlabError
from rnnlab.tasks.language_model.export import ORT_FILES, ORT_WEB_VERSION, PAGE_DIR, PAGE_FILES, copy_page

CHECKOUT = Path(__file__).resolve().parents[3]


def fake_dist(where: Path) -> Path:
    where.mkdir(parents=True)
    for name in ORT_FILES:
        (where / name).write_text(f"// {name}\n")
    return where


def test_the_page_is_package_data_and_pins_the_version_npm_installs():
    assert all((PAGE_DIR / name).is_file() for name in PAGE_FILES)
    assert "site-packages" in str(PAGE_DIR) or PAGE_DIR.is_relative_to(CHECKOUT / "src")   # inside the package
    pinned = json.loads((CHECKOUT / "examples" / "browser" / "package.json").read_text())["dependencies"]
    assert pinned["onnxruntime-web"] == ORT_WEB_VERSION


def test_without_onnxruntime_web_the_page_is_written_and_the_note_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = []
    copy_page(tmp_path, log=lines.append)
    assert {p.name for p in tmp_path.iterdir()} == set(PAGE_FILES)
    assert len(lines) == 1 and f"npm install onnxruntime-web@{ORT_WEB_VERSION}" in lines[0]
    assert "--ort-dist DIR" in lines[0] and "downloads nothing" in lines[0]


@pytest.mark.parametrize("where", ["node_modules/onnxruntime-web/dist",
                                   "examples/browser/node_modules/onnxruntime-web/dist"])
def test_an_npm_install_under_the_current_folder_is_found(tmp_path, monkeypatch, where):
    fake_dist(tmp_path / where)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "site"
    out.mkdir()
    lines = []
    copy_page(out, log=lines.append)
    assert sorted(p.name for p in (out / "ort").iterdir()) == sorted(ORT_FILES) and "in ort/" in lines[0]


def test_ort_dist_is_used_and_refused_in_one_line_when_it_is_not_a_dist_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dist = fake_dist(tmp_path / "elsewhere" / "dist")
    out = tmp_path / "site"
    out.mkdir()
    copy_page(out, dist, log=lambda line: None)
    assert (out / "ort" / ORT_FILES[0]).read_text() == f"// {ORT_FILES[0]}\n"
    (dist / ORT_FILES[-1]).unlink()
    with pytest.raises(RnnlabError, match=r"not onnxruntime-web's dist folder .*npm install onnxruntime-web@"):
        copy_page(out, dist, log=lambda line: None)
