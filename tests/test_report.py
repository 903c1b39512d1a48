"""The study report: notebook assembly, font subset, self-containment, a real headless browser, other corpora."""
from __future__ import annotations

import base64
import csv
import hashlib
import importlib
import io
import re
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import paths, report


def _pipeline_missing() -> str:
    """Why the whole pipeline cannot run yet ('' when every upstream stage imports)."""
    for name in ("corpus", "clean", "segment", "codebook", "tactics", "escalate", "legal", "pipeline"):
        try:
            importlib.import_module(f"helpers.{name}")
        except ImportError as exc:
            return f"helpers.{name} is not importable yet ({exc}); report builds need helpers.run.study_tables"
    return ""


PIPELINE_MISSING = _pipeline_missing()
needs_pipeline = pytest.mark.skipif(bool(PIPELINE_MISSING), reason=PIPELINE_MISSING or "pipeline ready")


# --------------------------------------------------------------------------- handmade inputs

def _png_with_chinese() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers import figures

    figures.use_study_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["电话", "上门"], [3, 2])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _notebook(png: str) -> nbformat.NotebookNode:
    table = pd.DataFrame({"tactic": ["T07", "T08"], "name_zh": ["联系第三方", "高频催收"], "n": [3, 2]})
    return new_notebook(cells=[
        new_markdown_cell("# 03 Tactics: 催收文本规定了哪些手段？\n\nWhich tactics do the texts prescribe?"),
        new_code_cell("CORPUS = 'secret_parameter_value'", metadata={"tags": ["parameters"]},
                      outputs=[new_output("stream", name="stdout", text="secret_parameter_value\n")]),
        new_markdown_cell("## 手段频次\n\n联系第三方是最常见的施压手段。其余手段较少。"),
        new_code_cell("fig = plot_tactics(mentions)", outputs=[new_output(
            "display_data", data={"image/png": png, "text/plain": "<Figure size 300x200 with 1 Axes>"})]),
        new_markdown_cell("**Reading.** 电话最多。"),
        new_code_cell("tables['mentions'].groupby('tactic').size()", metadata={"caption": "每种手段的提及次数。"},
                      outputs=[new_output("execute_result", execution_count=3,
                                          data={"text/html": table.to_html(), "text/plain": "tactic ..."})]),
        new_code_cell("print(n_docs); warnings.warn('x'); df", outputs=[
            new_output("stream", name="stdout", text="文书数 12\n"),
            new_output("stream", name="stderr", text="UserWarning: noisy log line\n"),
            new_output("execute_result", execution_count=4, data={
                "text/html": "<style scoped>.dataframe thead th {text-align: right;}</style>" + table.to_html(),
                "text/plain": "df"})]),
        new_markdown_cell("## 发现 Findings\n\n- 催收手段以电话为主。"),
    ])


def _facts() -> dict:
    return {
        "n_files": 1, "n_documents": 3, "n_duplicates": 1, "n_sentences": 10, "n_mentions": 5, "n_flags": 2,
        "n_tactic_sentences": 4, "n_flag_sentences": 2,
        "n_errors": 0, "checksum": report.raw_checksum(["ab" * 32]), "date_of_data": "not recorded",
        "documents": pd.DataFrame({"doc": ["handmade_doc"], "source": ["a.txt"], "title": ["催收话术"],
                                   "n_chars": [10], "duplicate_of": [None]}),
        "edits": pd.DataFrame({"kind": ["spin"], "edits": [3], "rules": ["德律风→电话"]}),
        "stages": pd.DataFrame({"stage": ["S1"], "sentences": [3]}),
        "modalities": pd.DataFrame({"modality": ["prescribed"], "mentions": [3]}),
        "stances": pd.DataFrame({"rule": ["R06"], "stance": ["acknowledged"], "sentences": [1]}),
        "codebook": pd.DataFrame({"tactic": ["T01"], "name_zh": ["提醒"], "weight": [1]}),
        "errors": pd.DataFrame(),
    }


@pytest.fixture(scope="session")
def handmade_report(tmp_path_factory):
    """A report page assembled from a handmade executed notebook (no pipeline needed)."""
    page = report.assemble([("03_tactics.ipynb", _notebook(_png_with_chinese()))], _facts(), paths.LEXICONS,
                           "corpus/raw", "python -m helpers report", "2026-01-01 00:00 UTC")
    path = tmp_path_factory.mktemp("handmade") / "study.html"
    path.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- provenance

def test_raw_checksum_is_order_free_and_content_sensitive():
    a, b = "a" * 64, "b" * 64
    assert report.raw_checksum([a, b]) == report.raw_checksum([b, a])
    assert report.raw_checksum([a, b]) != report.raw_checksum([a, a])
    assert report.raw_checksum([a]) != report.raw_checksum([a, a])
    assert re.fullmatch(r"[0-9a-f]{64}", report.raw_checksum([]))


def test_package_versions_and_paths_are_clone_independent(tmp_path):
    versions = report.package_versions().set_index("package")["version"]
    assert versions["pandas"] == pd.__version__ and versions["python"].startswith("3.")
    assert report.display_path(paths.RAW) == "corpus/raw"
    assert report.display_path(tmp_path) == tmp_path.resolve().as_posix()
    command = report.build_command(paths.RAW, paths.REPORTS, paths.LEXICONS, 7)
    assert command == ("python -m helpers report --corpus corpus/raw --out reports "
                       "--lexicons corpus/lexicons --seed 7")


# --------------------------------------------------------------------------- notebook → HTML

def test_notebook_section_keeps_narrative_tables_figures_and_drops_code():
    counter = report.Counter()
    section = report.notebook_section(_notebook(_png_with_chinese()), "03_tactics.ipynb", counter)
    html = section.html
    assert section.title == "03 Tactics: 催收文本规定了哪些手段？"
    assert "Which tactics do the texts prescribe?" in html and "催收手段以电话为主" in html
    for code in ("plot_tactics", "groupby", "print(n_docs)", "secret_parameter_value", "noisy log line"):
        assert code not in html, f"code or hidden output leaked: {code}"
    assert "文书数 12" in html  # stdout of a visible cell stays
    assert '<img src="data:image/png;base64,' in html
    assert "<b>Figure 1.</b> 手段频次 — 联系第三方是最常见的施压手段。</figcaption>" in html  # heading + lead
    assert "<b>Table 1.</b> 每种手段的提及次数。" in html  # caption: the cell's metadata
    assert "<b>Table 2.</b> 手段频次 — 电话最多。" in html  # nearest text, bold label dropped
    assert section.subsections == [(f"{section.anchor}-1", "手段频次"), (f"{section.anchor}-2", "发现 Findings")]
    assert f'<h3 id="{section.anchor}-2">' in html
    assert [(k, n) for k, n, _, _ in counter.captions] == [("Figure", 1), ("Table", 1), ("Table", 2)]


def test_prose_about_the_bundled_corpus_is_shown_only_for_the_bundled_corpus():
    nb = _notebook(_png_with_chinese())
    nb.cells[-1].metadata["tags"] = [report.BUNDLED_TAG]  # the findings cell: "## 发现 Findings" + prose
    nb.cells.insert(1, new_markdown_cell("种子页面有十四篇文章。", metadata={"tags": [report.BUNDLED_TAG]}))
    own = report.notebook_section(nb, "03_tactics.ipynb", report.Counter(), bundled=True).html
    other = report.notebook_section(nb, "03_tactics.ipynb", report.Counter(), bundled=False)
    assert "种子页面有十四篇文章" in own and "催收手段以电话为主" in own and report.BUNDLED_NOTE not in own
    assert "种子页面有十四篇文章" not in other.html and "催收手段以电话为主" not in other.html
    assert "Which tactics do the texts prescribe?" in other.html  # untagged narrative stays
    assert other.subsections[-1][1] == "发现 Findings"  # the heading stays in the contents
    assert other.html.count(report.BUNDLED_NOTE) == 2  # once for the untagged-heading prose, once under Findings


def test_bundled_checksum_matches_the_manifest_of_corpus_raw():
    files = report.read_commented_csv(paths.RAW / "MANIFEST.csv")
    assert report.bundled_checksum() == report.raw_checksum(files["sha256"])
    assert report.bundled_checksum(paths.ROOT / "no_such_folder") is None


def test_external_fetches_flags_network_loads_but_not_links():
    assert report.external_fetches('<script src="https://cdn.example/require.js"></script>')
    assert report.external_fetches('<link rel="stylesheet" href="//fonts.example/css">')
    assert report.external_fetches("<style>@font-face{src:url('https://x/f.woff')}</style>")
    assert report.external_fetches('<img src="http://x/a.png">')
    assert not report.external_fetches('<a href="https://flk.npc.gov.cn/">source</a>')
    assert not report.external_fetches('<img src="data:image/png;base64,AAAA">')


def test_missing_glyphs_names_characters_the_font_lacks():
    assert report.missing_glyphs("催收 abc，。⏎") == []
    assert report.missing_glyphs("催收\U0001F600") == ["\U0001F600"]
    assert report.page_text('<p title="x">催&amp;收</p><style>p{}</style><img src="data:image/png;base64,QUJD">') == "催&收"


def test_font_subset_covers_the_text_only_and_is_byte_stable():
    from fontTools.ttLib import TTFont

    first, second = report.subset_font("催收话术：电话"), report.subset_font("电话催收话术：")
    assert first == second, "subset depends on character order or the clock"
    assert first[:4] == b"wOFF"
    cmap = TTFont(io.BytesIO(first)).getBestCmap()
    assert {ord(c) for c in "催收话术电话：Aa1"} <= set(cmap)
    assert ord("龘") not in cmap and len(first) < 200_000


def test_assembled_page_is_self_contained_and_complete(handmade_report):
    html = handmade_report.read_text(encoding="utf-8")
    assert not report.external_fetches(html)
    assert "<script" not in html.lower()
    assert "@font-face" in html and "data:font/woff;base64," in html
    for heading in ("Contents", "Methods", "Validation", "Limitations", "Ethics", "Appendix A. Documents",
                    "Appendix B. Codebook", "Appendix C. Rule table"):
        assert heading in html
    assert "not establish crimes" in html and "practices, not persons" in html
    assert "handmade_doc" in html and "德律风→电话" in html
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", html)) == 1, "one timestamp, in one place"
    assert report.without_timestamp(html).count('<span class="build-time"></span>') == 1


def test_assembly_is_deterministic_apart_from_the_marked_timestamp():
    nb = _notebook(_png_with_chinese())
    pages = [report.assemble([("03_tactics.ipynb", nb)], _facts(), paths.LEXICONS, "corpus/raw", "cmd", when)
             for when in ("2026-01-01 00:00 UTC", "2027-02-02 11:11 UTC")]
    assert pages[0] != pages[1]
    assert report.without_timestamp(pages[0]) == report.without_timestamp(pages[1])


# --------------------------------------------------------------------------- papermill

def test_execute_notebooks_injects_parameters_without_progress_in_outputs(tmp_path):
    nb = new_notebook(cells=[
        new_code_cell("CORPUS = 'default'\nSEED = 0", metadata={"tags": ["parameters"]}),
        new_code_cell("import os\nprint(CORPUS, SEED, os.path.basename(os.getcwd()))"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, str(folder / "01_tiny.ipynb"))
    assert report.missing_parameters(folder / "01_tiny.ipynb", {"CORPUS": 1, "OUT": 2, "SEED": 3}) == ["OUT"]
    [done] = report.execute_notebooks(report.study_notebooks(folder), tmp_path / "executed",
                                      {"CORPUS": "other/corpus", "SEED": 7}, cwd=folder, progress=False)
    outputs = nbformat.read(str(done), as_version=4).cells[-1].outputs
    text = "".join(o.get("text", "") for o in outputs)
    assert text.strip() == "other/corpus 7 nbs"
    assert "it/s" not in text and "Executing" not in text

    broken = new_notebook(cells=[new_code_cell("raise ValueError('bad corpus')")], metadata=nb.metadata)
    nbformat.write(broken, str(folder / "02_broken.ipynb"))
    with pytest.raises(RuntimeError, match=r"02_broken\.ipynb failed \(ValueError: bad corpus\)"):
        report.execute_notebooks([folder / "02_broken.ipynb"], tmp_path / "executed", {}, progress=False)


# --------------------------------------------------------------------------- headless browser

def _assert_embedded_font(check: dict) -> None:
    assert check["fonts"], "no element with Chinese text was sampled"
    for sample in check["fonts"]:
        used = [f for f in sample["fonts"] if f["glyphCount"]]
        assert used and all(f["isCustomFont"] and f["familyName"] == "Noto Sans SC" for f in used), sample


def _assert_offline(check: dict) -> None:
    assert check["failed"] == []
    assert all(u.startswith(("file:", "data:")) for u in check["requests"]), check["requests"]


def test_browser_renders_chinese_with_the_embedded_font(handmade_report, chromium_path):
    check = report.browser_check(handmade_report, chromium_path)
    _assert_offline(check)
    assert ("StudyCJK", "loaded") in check["font_faces"]
    assert {s["selector"] for s in check["fonts"]} >= {"h1", "h2", "p", "td", "figcaption"}
    _assert_embedded_font(check)


def test_browser_check_sees_fallback_fonts_and_failed_loads(handmade_report, chromium_path, tmp_path):
    """The checks can fail: without the @font-face Chromium draws with a system font; a missing file fails."""
    html = handmade_report.read_text(encoding="utf-8")
    stripped = re.sub(r"@font-face \{.*?\}", "", html, count=1, flags=re.S)
    stripped = stripped.replace("</body>", '<img src="missing.png" alt="x"></body>')
    page = tmp_path / "no_font.html"
    page.write_text(stripped, encoding="utf-8")
    check = report.browser_check(page, chromium_path)
    assert [f["url"].rsplit("/", 1)[-1] for f in check["failed"]] == ["missing.png"]
    used = [f for s in check["fonts"] for f in s["fonts"]]
    assert used and not any(f["isCustomFont"] for f in used)


# --------------------------------------------------------------------------- full builds (need the pipeline)

@pytest.fixture(scope="session")
def seed_report(tmp_path_factory):
    """The real report on the bundled corpus, built once per test session."""
    if PIPELINE_MISSING:
        pytest.skip(PIPELINE_MISSING)
    out = tmp_path_factory.mktemp("seed_report")
    return report.build_report(corpus=paths.RAW, out=out, lexicons=paths.LEXICONS, progress=False)


@needs_pipeline
def test_seed_report_states_provenance_and_has_every_notebook(seed_report):
    html = seed_report.read_text(encoding="utf-8")
    manifest = list(csv.DictReader((paths.RAW / "MANIFEST.csv").open(encoding="utf-8")))
    assert f"sha256:{report.raw_checksum(r['sha256'] for r in manifest)}" in html
    assert "python -m helpers report --corpus corpus/raw" in html
    executed = sorted(p.name for p in (seed_report.parent / "executed").glob("*.ipynb"))
    assert executed == [p.name for p in report.study_notebooks()]
    for name in executed:
        assert f"<code>{name}</code>" in html
    assert not report.external_fetches(html) and "<script" not in html.lower()
    assert "study_tables(" not in html, "a code cell leaked into the report"
    assert report.missing_glyphs(report.page_text(html)) == []


@needs_pipeline
def test_seed_report_loads_offline_in_chromium(seed_report, chromium_path):
    check = report.browser_check(seed_report, chromium_path)
    _assert_offline(check)
    _assert_embedded_font(check)


SECOND_CORPUS = {
    "collection_script": "催收话术\n您好，您的账单已逾期3天，请今天下午五点前还款，否则我们将联系您的家人和单位领导。",
    "debtor_complaint": "投诉信\n催收员每天打几十个电话，还给我父母发短信说我是老赖，威胁要上门。",
    "collection_rule": "催收管理规定\n催收人员不得辱骂债务人，严禁在晚上十点后致电，不得联系与债务无关的第三人。",
}


@needs_pipeline
def test_report_runs_on_the_parquet_tables_of_a_corpus_run(tmp_path, monkeypatch):
    """``make report CORPUS=<output of python -m helpers run>``: the notebooks read the Parquet tables."""
    from helpers.run import run

    monkeypatch.setattr(report.html, "APPENDIX_ROWS", 10)  # a corpus larger than the appendix lists

    corpus = tmp_path / "texts"
    corpus.mkdir()
    for stem, text in SECOND_CORPUS.items():
        (corpus / f"{stem}.txt").write_text(text, encoding="utf-8")
    who, how, then = ["母亲", "父亲", "同事", "领导", "邻居", "同学", "老婆", "孩子的老师"], \
        ["打电话", "发短信", "发微信", "上门"], ["威胁要起诉", "说要曝光我", "骂我是老赖", "逼我借网贷还款"]
    for n in range(1, 41):  # more documents than a per-document figure draws (figures.MAX_ITEMS)
        (corpus / f"complaint_{n:02d}.txt").write_text(
            f"投诉第{n}号\n{n}月{n % 28 + 1}日起，催收员每天{how[n % 4]}给我的{who[n % 8]}，{then[n // 8 % 4]}。"
            + "我已经还了一部分，对方仍然" + then[(n + 1) % 4] + f"，一共{n * 3}次。" * (1 + n % 3), encoding="utf-8")
    run(corpus, tmp_path / "run", progress=False)
    html = report.build_report(corpus=tmp_path / "run", out=tmp_path / "out", lexicons=paths.LEXICONS,
                               progress=False).read_text(encoding="utf-8")
    for stem in SECOND_CORPUS:
        assert stem in html, f"report does not name document {stem}"
    assert "000_596d8518cc043797-a" not in html
    assert "raw rebuild is not checked here" in html
    # a large corpus: the per-document figures draw the busiest documents and say so
    # (no text of this corpus was spun: the spin-density figure says so instead of drawing 43 zero bars)
    assert "Skipped: this corpus has no synonym-spinning repairs" in html
    shown = re.search(r"(\d+) articles: the figure shows the 30 with the most tactic sentences", html)
    assert shown and int(shown.group(1)) > 30
    # Appendix A lists the first documents; documents.csv beside the report lists every one
    assert "The first 10 of 43 documents after cleaning" in html and "complaint_40" not in \
        html.split('<section id="appendix-documents">')[1].split("</section>")[0]
    listed = pd.read_csv(tmp_path / "out" / "documents.csv")
    assert len(listed) == 43 and "complaint_40-a00" in set(listed["doc"])


def _snapshot(root):
    """sha256 and mtime of every file under ``root``."""
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@needs_pipeline
def test_report_runs_on_another_corpus_and_names_its_documents(tmp_path):
    """``python -m helpers report --corpus DIR``: the report names the corpus's documents, and the corpus is
    never written to (sha256 and mtime of every input file before and after)."""
    corpus = tmp_path / "texts"
    corpus.mkdir()
    texts = SECOND_CORPUS
    for stem, text in texts.items():
        (corpus / f"{stem}.txt").write_text(text, encoding="utf-8")
    before = _snapshot(corpus)
    proc = subprocess.run([sys.executable, "-m", "helpers", "report", "--corpus", str(corpus), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _snapshot(corpus) == before
    html = (tmp_path / "out" / "study.html").read_text(encoding="utf-8")
    for stem in texts:
        assert stem in html, f"report does not name document {stem}"
    # the seed's documents and the notebooks' prose about it stay out (the appendices may still cite the seed
    # file as the provenance of lexicon entries)
    assert "000_596d8518cc043797-a" not in html, "seed corpus documents leaked into another corpus's report"
    assert "article-aggregator" not in html and "On the founding page" not in html, "seed prose leaked"
    assert report.BUNDLED_NOTE in html
    assert re.search(r"<th>Files read</th><td>3\b", html)


def test_print_pdf_embeds_the_report_font(handmade_report, chromium_path, tmp_path):
    pdf = report.print_pdf(handmade_report, tmp_path / "study.pdf", chromium_path)
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and b"NotoSansSC" in data


def test_chromium_profile_is_removed_though_helpers_still_write_into_it(monkeypatch):
    """Chromium's helper processes may write into the profile after the browser exits: removal retries, and
    a profile that cannot be removed never fails the report ("Directory not empty" made the browser test flaky)."""
    import shutil
    from pathlib import Path

    from helpers.report import browser

    real = shutil.rmtree
    calls = []

    def busy_twice(path, ignore_errors=False):
        calls.append(ignore_errors)
        if len(calls) <= 2:
            raise OSError(39, "Directory not empty")
        real(path, ignore_errors=ignore_errors)
    monkeypatch.setattr(browser.time, "sleep", lambda s: None)
    monkeypatch.setattr(browser.shutil, "rmtree", busy_twice)
    with browser.chromium_profile() as folder:
        (Path(folder) / "Default").mkdir()
    assert not Path(folder).exists() and calls == [False, False, False]

    def always_busy(path, ignore_errors=False):
        if not ignore_errors:
            raise OSError(39, "Directory not empty")
        real(path, ignore_errors=True)
    monkeypatch.setattr(browser.shutil, "rmtree", always_busy)
    with browser.chromium_profile() as folder:
        pass
    assert not Path(folder).exists()
