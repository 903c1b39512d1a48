"""Legal quotes cite the source row their indicator names, one sentence for one rule (issue 19); honest figures."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers import escalate, paths
from helpers.clean import without_duplicates
from helpers.coding.legal import load_rules
from helpers.run import study_tables
from helpers.quotes import cited_quotes, load_indicator_sources, source_row


def test_every_listed_indicator_exists_and_names_one_of_its_rules_rows():
    indicators = (paths.LEXICONS / "red_line_indicators.yaml").read_text(encoding="utf-8")
    rules = load_rules()
    for indicator in load_indicator_sources():
        rule, name = indicator.split(".", 1)
        assert re.search(rf"- id: {re.escape(name)}\b", indicators), indicator
        row, cited = source_row(rules, rule, indicator, load_indicator_sources())
        assert cited == "indicator" and row["rule_id"] == rule, indicator


@pytest.fixture(scope="module")
def quotes():
    tables = study_tables(tokens=False, tables=["documents", "sentences", "flags"])
    documents = tables["documents"]
    return cited_quotes(without_duplicates(tables["flags"], documents),
                        without_duplicates(tables["sentences"], documents), load_rules())


def test_one_sentence_is_quoted_for_one_rule_only(quotes):
    assert len(quotes) and not quotes.duplicated(["doc", "sent"]).any()
    assert (quotes.groupby("rule").size() <= 2).all()


def test_a_quote_cites_the_source_of_the_conduct_it_shows(quotes):
    cover = quotes[quotes["indicator"] == "R07.cover_story"]
    assert len(cover) and not cover["article"].str.contains("第279条").any()  # not impersonating an official
    search = quotes[quotes["indicator"] == "R10.R10b_public_search"]
    assert len(search) and (search["instrument"] == "中华人民共和国个人信息保护法").all()
    assert set(quotes["cited"]) <= {"indicator", "lead source"}


def test_ordinal_intensity_is_shown_as_a_distribution():
    units = pd.DataFrame({"stage": ["S1", "S1", "S1", "S3"], "intensity": [1.0, 4.0, 4.0, 5.0]})
    levels = escalate.intensity_levels(units).set_index("stage")
    assert levels.loc["S1", [1, 4]].tolist() == pytest.approx([1 / 3, 2 / 3]) and levels.loc["S3", 5] == 1.0
    assert levels[[1, 2, 3, 4, 5]].sum(axis=1).tolist() == pytest.approx([1.0, 1.0])


def test_figures_are_written_at_200_dpi(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from helpers.figures import save_figure, tactic_colors, use_study_style

    use_study_style()
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1], [0, 1])
    png = save_figure(fig, "dpi", tmp_path)["png"]
    plt.close(fig)
    assert round(Image.open(png).info["dpi"][0]) == 200
    colors = tactic_colors([f"T{n:02d}" for n in range(1, 16)])
    assert len(set(colors.values())) == 15
