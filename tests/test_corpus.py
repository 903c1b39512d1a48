"""helpers.corpus: encodings detected (not assumed), raw text kept exact, bad inputs named and reported."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import paths
from helpers.corpus import (
    DOC_COLUMNS,
    ERROR_COLUMNS,
    CorpusError,
    chinese_plausibility,
    extract_html_text,
    load_corpus,
    read_text,
)

SIMPLIFIED = "催收时应时时跟进，与客户保持联系，可时不时发祝福语给客户。\n严禁辱骂、恐吓债务人及其家属！逾期第３天起联系紧急联系人；"
TRADITIONAL = "催收時應時時跟進，與客戶保持聯繫，可時不時發祝福語給客戶。\n嚴禁辱罵、恐嚇債務人及其家屬！逾期第３天起聯繫緊急聯繫人；"


def _write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- encodings -------------------------------------------------------------

@pytest.mark.parametrize(
    "text, codec, expected",
    [
        (SIMPLIFIED, "utf-8", "utf-8"),
        (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "utf-16", "utf-16"),
        (SIMPLIFIED, "utf-16-be", None),  # written with an explicit big-endian BOM below
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED, "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL, "utf-8", "utf-8"),
    ],
)
def test_encodings_decode_exactly(tmp_path, text, codec, expected):
    data = text.encode(codec)
    if codec == "utf-16-be":
        data, expected = b"\xfe\xff" + data, "utf-16"
    path = _write(tmp_path / "doc.txt", data)
    decoded, encoding = read_text(path)
    assert decoded == text  # traditional text stays traditional: conversion is cleaning's job
    assert encoding == expected
    assert data.decode(encoding) == decoded


def test_gbk_and_big5_are_not_confused_even_when_short(tmp_path):
    for text, codec, expected in [("你好", "gbk", "gb18030"), ("還款", "big5", "big5"), ("逾期三天", "gbk", "gb18030")]:
        path = _write(tmp_path / f"{codec}.txt", text.encode(codec))
        assert read_text(path) == (text, expected)


def test_legacy_file_whose_sample_ends_inside_a_character(tmp_path):
    # 1 ASCII byte shifts the two-byte characters so the 256 KB detection sample ends mid-character.
    text = "x" + SIMPLIFIED.replace("\n", "") * 9000
    path = _write(tmp_path / "long_gbk.txt", text.encode("gbk"))
    assert path.stat().st_size > 300_000
    assert read_text(path) == (text, "gb18030")


def test_mixed_line_endings_are_kept(tmp_path):
    text = "第一行\r\n第二行\r第三行\n\n第五行\r\n"
    for codec in ("utf-8", "gbk"):
        path = _write(tmp_path / f"{codec}.txt", text.encode(codec))
        docs, errors = load_corpus(path)
        assert docs.raw[0] == text and errors.empty


def test_emoji_zero_width_and_full_width_digits_are_preserved(tmp_path):
    text = "还款请回复１２３４５６ 😀👍🏻 零\u200b宽\u200d字符\ufeff在此 👨\u200d👩\u200d👧 ＡＢＣ"
    for codec in ("utf-8", "gb18030", "utf-16"):
        path = _write(tmp_path / f"{codec}.txt", text.encode(codec))
        assert read_text(path)[0] == text


def test_a_one_megabyte_line_without_punctuation(tmp_path):
    text = ("逾期客户联系人家属单位领导" * 30_000)[:400_000]
    path = _write(tmp_path / "line.txt", text.encode("utf-8"))
    assert path.stat().st_size > 1_000_000
    docs, _ = load_corpus(path)
    assert docs.raw[0] == text and "\n" not in docs.raw[0]


def test_undecodable_bytes_raise_instead_of_mojibake(tmp_path):
    data = bytes(range(0x80, 0x100)) * 40 + b"\n" + bytes(range(0xFF, 0x7F, -1)) * 40
    path = _write(tmp_path / "garbled.txt", data)
    with pytest.raises(CorpusError, match=r"garbled\.txt: undecodable text"):
        read_text(path)


def test_corrupted_utf8_is_not_read_as_gbk_mojibake(tmp_path):
    data = bytearray(("催收时应时时跟进，与客户保持联系。" * 50).encode("utf-8"))
    data[300] = 0xFF
    path = _write(tmp_path / "broken.txt", bytes(data))
    with pytest.raises(CorpusError, match=r"broken\.txt: undecodable text.*utf-8 \(invalid at byte 300\)"):
        read_text(path)


def test_plausibility_separates_right_and_wrong_decodes():
    gb_bytes, big5_bytes = SIMPLIFIED.encode("gbk"), TRADITIONAL.encode("big5")
    assert chinese_plausibility(gb_bytes.decode("gb18030")) == 1.0
    assert chinese_plausibility(big5_bytes.decode("big5")) == 1.0
    assert chinese_plausibility(big5_bytes.decode("gb18030")) < 0.5


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("催收逾期还款客户家属\r\n \t，。！abc123１２😀\u200b")), min_size=1, max_size=80)
    .filter(lambda t: t.strip()),
    codec=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]),
)
def test_unicode_files_round_trip_exactly(tmp_path_factory, text, codec):
    data = text.encode(codec)
    path = _write(tmp_path_factory.mktemp("rt") / "doc.txt", data)
    decoded, encoding = read_text(path)
    assert decoded == text
    assert data.decode(encoding) == text


def test_utf16_without_bom_is_recognised_from_its_ascii(tmp_path):
    text = "Case 42: 客户逾期, call back at 10:00.\r\n"
    path = _write(tmp_path / "le.txt", text.encode("utf-16-le"))
    assert read_text(path) == (text, "utf-16-le")


# --- refusals --------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t ", "\ufeff".encode("utf-8"), "  \n".encode("utf-16"), "\u3000\n".encode("gbk")])
def test_empty_files_are_refused_by_name(tmp_path, data):
    path = _write(tmp_path / "blank.txt", data)
    with pytest.raises(CorpusError, match=r"blank\.txt: empty file") as info:
        read_text(path)
    assert info.value.reason == "empty file"


@pytest.mark.parametrize(
    "data, what",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        ("催收".encode("utf-8") + b"\x00\x01\x02" * 10, "NUL"),
        (bytes([1, 2, 3, 4, 5, 6, 0x0e, 0x0f]) * 50 + b"text", "control bytes"),
    ],
)
def test_binary_files_are_refused(tmp_path, data, what):
    path = _write(tmp_path / "scan.txt", data)
    with pytest.raises(CorpusError, match=rf"scan\.txt: binary file \(.*{what}"):
        read_text(path)


def test_size_limit_names_size_and_limit(tmp_path):
    path = _write(tmp_path / "big.txt", SIMPLIFIED.encode("utf-8") * 10)
    size = path.stat().st_size
    with pytest.raises(CorpusError, match=rf"big\.txt: file too large \({size:,} bytes; limit 1,000 bytes\)"):
        read_text(path, max_bytes=1000)
    docs, errors = load_corpus(path, max_bytes=1000)
    assert docs.empty and errors.reason[0].startswith("file too large")


def test_corpus_error_survives_pickling():
    import pickle

    exc = pickle.loads(pickle.dumps(CorpusError("a/b.txt", "empty file")))
    assert (exc.source, exc.reason, str(exc)) == ("a/b.txt", "empty file", "a/b.txt: empty file")


def test_missing_path_raises(tmp_path):
    with pytest.raises(CorpusError, match="nowhere: no such file or folder"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(ValueError):
        load_corpus(tmp_path, on_error="ignore")


# --- HTML ------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta charset="gbk"><title>催收话术</title>
<style>p { color: red } /* 不要 */</style><script>var s = "<p>严禁</p>";</script></head>
<body><div class="nav">首页 &gt; 文章</div><h1>催收技巧</h1>
<p>催收时应时时跟进，
与客户保持联系。<br>Call   the
debtor &amp; record it.</p><ul><li>一</li><li>二</li></ul><table><tr><td>M1</td><td>提醒</td></tr></table>
<!-- 广告 --><noscript>开启脚本</noscript></body></html>"""


def test_html_text_extraction():
    text = extract_html_text(PAGE)
    assert text == "催收话术\n首页 > 文章\n催收技巧\n催收时应时时跟进，与客户保持联系。\nCall the debtor & record it.\n一\n二\nM1\t提醒"
    assert "color" not in text and "var s" not in text and "严禁" not in text and "广告" not in text


def test_html_file_loads_extracted_text(tmp_path):
    data = PAGE.encode("gbk")
    path = _write(tmp_path / "page.html", data)
    docs, errors = load_corpus(path)
    assert errors.empty
    row = docs.iloc[0]
    assert (row.kind, row.encoding, row.doc) == ("html", "gb18030", "page")
    assert row.raw == extract_html_text(PAGE)
    assert row.sha256 == hashlib.sha256(data).hexdigest()


def test_html_without_visible_text_is_an_error(tmp_path):
    path = _write(tmp_path / "shell.htm", b"<html><head><script>var a=1;</script></head><body> </body></html>")
    docs, errors = load_corpus(path)
    assert docs.empty and "no visible text" in errors.reason[0]


# --- big files -------------------------------------------------------------

@pytest.fixture(scope="module")
def fifty_mb(tmp_path_factory):
    block = ("第%07d行：客户逾期三天，应电话提醒还款；严禁辱骂。Call log ok.\r\n" * 1).encode("utf-8")
    path = tmp_path_factory.mktemp("big") / "fifty.txt"
    with open(path, "wb") as fh:
        n = 0
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(b"".join(block.replace(b"%07d", b"%07d" % (n + i)) for i in range(10_000)))
            n += 10_000
    return path


def test_fifty_megabyte_file_loads(fifty_mb):
    data = fifty_mb.read_bytes()
    docs, errors = load_corpus(fifty_mb)
    assert errors.empty and docs.encoding[0] == "utf-8"
    assert docs.raw[0] == data.decode("utf-8")
    assert docs.sha256[0] == hashlib.sha256(data).hexdigest()


# --- folders ---------------------------------------------------------------

def test_folder_skips_bad_file_and_loads_the_rest(tmp_path):
    root = tmp_path / "corpus"
    _write(root / "b_letter.txt", SIMPLIFIED.encode("gbk"))
    _write(root / "a_script.md", SIMPLIFIED.encode("utf-8"))
    _write(root / "sub" / "c_scan.txt", b"%PDF-1.4 binary")
    _write(root / "sub" / "d_trad.txt", TRADITIONAL.encode("big5"))
    _write(root / "e_empty.txt", b"")
    _write(root / "MANIFEST.csv", b"file,sha256\n")
    _write(root / "README.md", "说明".encode())
    _write(root / ".hidden.txt", SIMPLIFIED.encode())
    _write(root / ".ipynb_checkpoints" / "x.txt", SIMPLIFIED.encode())
    docs, errors = load_corpus(root)
    assert list(docs.columns) == DOC_COLUMNS and list(errors.columns) == ERROR_COLUMNS
    assert docs.doc.tolist() == ["a_script", "b_letter", "d_trad"]
    assert docs.encoding.tolist() == ["utf-8", "gb18030", "big5"]
    assert docs.kind.tolist() == ["md", "txt", "txt"]
    assert docs.raw.tolist() == [SIMPLIFIED, SIMPLIFIED, TRADITIONAL]
    assert errors.source.tolist() == [(root / rel).resolve().as_posix() for rel in ("e_empty.txt", "sub/c_scan.txt")]
    assert errors.reason.tolist() == ["empty file", "binary file (PDF signature)"]
    with pytest.raises(CorpusError, match=r"e_empty\.txt: empty file"):
        load_corpus(root, on_error="raise")


def test_folder_ids_are_unique_when_stems_clash(tmp_path):
    for rel in ("a/x.txt", "b/x.txt", "y.txt", "y.md", "z.txt"):
        _write(tmp_path / rel, SIMPLIFIED.encode())
    docs, _ = load_corpus(tmp_path)
    assert docs.doc.tolist() == ["a/x", "b/x", "y.md", "y.txt", "z"]
    assert docs.doc.is_unique


def test_unsupported_suffix_is_reported(tmp_path):
    _write(tmp_path / "notes.doc", SIMPLIFIED.encode())
    _write(tmp_path / "ok.txt", SIMPLIFIED.encode())
    docs, errors = load_corpus(tmp_path)
    assert docs.doc.tolist() == ["ok"]
    assert "unsupported file type '.doc'" in errors.reason[0]


def test_raw_files_are_not_modified(tmp_path):
    path = _write(tmp_path / "ro.txt", SIMPLIFIED.encode("gbk"))
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = (path.read_bytes(), os.stat(path).st_mtime_ns)
    load_corpus(tmp_path)
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before


# --- tables ----------------------------------------------------------------

def test_jsonl_table_with_text_and_id_columns(tmp_path):
    rows = [
        {"id": "c1", "text": "催收员每天打十几个电话\r\n还骚扰我父母", "channel": "complaint"},
        {"id": "c2", "text": "   "},
        {"id": "c3", "text": "行分隔符\u2028在字符串里"},
    ]
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode("gb18030")
    path = _write(tmp_path / "complaints.jsonl", data + b"\n\n")
    docs, errors = load_corpus(path, text_column="text")
    assert docs.doc.tolist() == ["complaints:row0", "complaints:row2"]
    assert docs.raw.tolist() == [rows[0]["text"], rows[2]["text"]]
    assert set(docs.kind) == {"jsonl"} and set(docs.encoding) == {"gb18030"}
    assert errors.to_dict("records") == [{"source": docs.source[0] + ":row1", "reason": "empty text"}]
    docs, _ = load_corpus(path, text_column="text", id_column="id")
    assert docs.doc.tolist() == ["c1", "c3"]
    with pytest.raises(CorpusError, match=r"row1: empty text"):
        load_corpus(path, text_column="text", on_error="raise")


def test_csv_table_keeps_quoted_newlines(tmp_path):
    path = tmp_path / "scripts.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["no", "body"])
        writer.writerow(["1", "您好，\r\n这里是还款提醒"])
        writer.writerow(["2", "NA"])
    docs, errors = load_corpus(path, text_column="body")
    assert errors.empty
    assert docs.doc.tolist() == ["scripts:row0", "scripts:row1"]
    assert docs.raw.tolist() == ["您好，\r\n这里是还款提醒", "NA"]
    assert docs.encoding[0] == "utf-8-sig" and docs.kind[0] == "csv"


def test_table_column_errors_name_the_file(tmp_path):
    path = _write(tmp_path / "t.csv", "no,body\n1,你好\n".encode())
    with pytest.raises(CorpusError, match=r"t\.csv: no text column 'text'"):
        load_corpus(path, text_column="text", on_error="raise")
    with pytest.raises(CorpusError, match=r"t\.csv: no id column 'id'"):
        load_corpus(path, text_column="body", id_column="id", on_error="raise")
    with pytest.raises(CorpusError, match=r"t\.csv: csv table needs text_column"):
        load_corpus(path, on_error="raise")
    _, errors = load_corpus(path, text_column="text")
    assert errors.source[0].endswith("t.csv") and "no text column" in errors.reason[0]


# --- the seed corpus -------------------------------------------------------

def test_seed_corpus_loads_with_manifest_checksum():
    docs, errors = load_corpus(paths.RAW)
    assert errors.empty
    seed = docs.set_index("doc").loc["000_596d8518cc043797"]
    assert seed.encoding == "utf-8" and seed.kind == "txt"
    assert seed.source == "corpus/raw/000_596d8518cc043797.txt" or seed.source.endswith("000_596d8518cc043797.txt")
    data = (paths.RAW / "000_596d8518cc043797.txt").read_bytes()
    assert seed.raw == data.decode("utf-8")
    assert "德律风" in seed.raw and "{老赖催收恶毒短信}." in seed.raw
    manifest = paths.RAW / "MANIFEST.csv"
    if not manifest.exists():
        pytest.skip("corpus/raw/MANIFEST.csv not written yet")
    listed = {row["file"]: row["sha256"] for row in csv.DictReader(manifest.open(encoding="utf-8"))}
    for row in docs.itertuples():
        assert listed[row.source.rsplit("/", 1)[-1]] == row.sha256
