"""The bundle's foundation: pins agree, raw data is immutable, figures render Chinese, notebooks are clean."""
from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest
import yaml

from helpers import figures, paths

ROOT = paths.ROOT


def _pins_pyproject() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["test"])


def test_environment_yml_matches_pyproject_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    pins = {p for p in pip_section if not p.startswith("-e")}
    assert pins == _pins_pyproject()
    assert any(p.startswith("-e .") for p in pip_section), "environment.yml must install this package"


def test_every_dependency_is_pinned():
    for dep in _pins_pyproject():
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", dep), f"unpinned dependency: {dep}"


def test_raw_files_match_manifest_checksums():
    manifest = list(csv.DictReader((paths.RAW / "MANIFEST.csv").open(encoding="utf-8")))
    assert manifest, "corpus/raw/MANIFEST.csv is empty"
    listed = {row["file"] for row in manifest}
    on_disk = {p.name for p in paths.RAW.iterdir() if p.is_file() and p.name != "MANIFEST.csv"}
    assert listed == on_disk, f"raw files and manifest disagree: {listed ^ on_disk}"
    for row in manifest:
        data = (paths.RAW / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], f"{row['file']} was modified"
        assert len(data) == int(row["bytes"])
        for column in ("kind", "language", "source", "notes"):
            assert row[column].strip(), f"{row['file']}: manifest column {column} is empty"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme


def test_chinese_figure_renders_without_missing_glyphs(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures.use_study_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fig, ax = plt.subplots()
        ax.bar(["电话催收", "上门外访", "征信"], [3, -1, 2])
        ax.set_title("催收手段：德律风→电话")
        out = figures.save_figure(fig, "glyphs", folder=tmp_path)
        plt.close(fig)
    # The CJK font is really used: the title's glyphs are drawn from Noto Sans SC.
    assert plt.rcParams["font.sans-serif"][0] == "Noto Sans SC"
    assert out["png"].stat().st_size > 5_000 and out["svg"].stat().st_size > 5_000


def test_missing_glyph_warning_is_raised_without_the_font(tmp_path):
    """Guard against a silent fallback: without the bundled font, DejaVu Sans cannot draw Chinese."""
    code = (
        "import warnings, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt;"
        "plt.rcParams['font.sans-serif']=['DejaVu Sans'];"
        "fig, ax = plt.subplots(); ax.set_title('催收'); fig.savefig(r'%s')" % (tmp_path / "x.png")
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "missing from font" in result.stderr


def test_saved_figures_are_byte_stable(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures.use_study_style()
    digests = []
    for _ in range(2):
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [2, 1, 3], label="强度")
        ax.legend()
        out = figures.save_figure(fig, "stable", folder=tmp_path)
        plt.close(fig)
        digests.append({k: figures.file_digest(v) for k, v in out.items()})
    assert digests[0] == digests[1]
    assert b"Date" not in out["svg"].read_bytes()[:2000]


def test_busiest_keeps_the_largest_in_their_order_and_everything_when_few():
    import pandas as pd

    weights = pd.Series([1, 5, 3, 5, 0], index=["a", "b", "c", "d", "e"])
    assert figures.busiest(weights, n=2) == ["b", "d"]          # ties: the earlier first; original order kept
    assert figures.busiest(weights, n=3) == ["b", "c", "d"]
    assert figures.busiest(weights, n=5) == list("abcde")
    assert figures.busiest(pd.Series(range(40))) == list(range(10, 40))  # MAX_ITEMS = 30 by default


def test_wordcloud_uses_bundled_font(tmp_path):
    from wordcloud import WordCloud

    freqs = {"催收": 10, "电话": 7, "家人": 5, "施压": 4, "征信": 3}
    images = [
        WordCloud(font_path=str(figures.font_path()), random_state=7, width=200, height=120,
                  background_color="white").generate_from_frequencies(freqs).to_array()
        for _ in range(2)
    ]
    assert (images[0] == images[1]).all(), "word cloud not deterministic under a fixed random_state"
    assert (images[0] < 250).any(), "word cloud drew nothing"


NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_is_clean(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d\d_[a-z_]+\.ipynb", nb_path.name), "notebooks are numbered NN_name.ipynb"
    tags = [t for c in nb["cells"] for t in c.get("metadata", {}).get("tags", [])]
    assert "parameters" in tags, f"{nb_path.name} has no parameters cell"
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell.get("execution_count") is not None, f"{nb_path.name}: unexecuted cell"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{nb_path.name}: error output"
            text = json.dumps(out, ensure_ascii=False)
            assert "missing from font" not in text, f"{nb_path.name}: missing-glyph warning"
            assert "Loading model cost" not in text, f"{nb_path.name}: jieba timing log"
            assert not re.search(r" at 0x[0-9a-f]+>", text), f"{nb_path.name}: object repr with address"
