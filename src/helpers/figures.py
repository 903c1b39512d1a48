"""The study's plot style, its bundled CJK font and byte-stable figure files.

One place sets how every figure looks and makes Chinese text render on any machine:
the font is Noto Sans SC (SIL OFL 1.1) from the PyPI package ``pylopdf-fonts-zh-cn``,
registered with matplotlib at first use, so no system CJK font is needed.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

from . import paths

FONT_FILE = "NotoSansSC-Regular.otf"
FONT_FAMILY = "Noto Sans SC"

# Okabe-Ito: colour-blind safe, stable order for modalities and stages.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
MODALITY_COLORS = {"prescribed": "#D55E00", "prohibited": "#0072B2", "reported": "#999999", "mixed": "#E69F00"}
STAGE_COLORS = {"S0": "#56B4E9", "S1": "#009E73", "S2": "#E69F00", "S3": "#D55E00", "S4": "#CC79A7"}
# 15 tactics told apart: tab20's dark and light pairs, skipping the greys (reported stance uses grey)
TACTIC_PALETTE = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
                  "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#bcbd22", "#dbdb8d",
                  "#17becf", "#9edae5"]
INTENSITY_COLORS = {1: "#fee5d9", 2: "#fcae91", 3: "#fb6a4a", 4: "#de2d26", 5: "#a50f15"}
MAX_ITEMS = 30
"""Most documents a per-document figure draws: a large corpus (``python -m helpers run``) shows its busiest ones."""


@lru_cache(maxsize=1)
def font_path() -> Path:
    """Path of the bundled Noto Sans SC font file (for matplotlib, wordcloud, the HTML report)."""
    path = Path(str(resources.files("pylopdf_fonts_zh_cn") / FONT_FILE))
    if not path.exists():  # pragma: no cover - packaging error
        raise FileNotFoundError(f"bundled CJK font missing: {path}; reinstall pylopdf-fonts-zh-cn")
    return path


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the bundled font with matplotlib once; return its family name."""
    font_manager.fontManager.addfont(str(font_path()))
    name = font_manager.FontProperties(fname=str(font_path())).get_name()
    return name


def use_study_style() -> None:
    """Apply the study's rcParams: CJK font first, ASCII minus sign, deterministic SVG ids."""
    family = register_cjk_font()
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.axisbelow": True,
            "grid.alpha": 0.3,
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "figure.figsize": (8, 4.5),
            "svg.hashsalt": "cuishou-study",
            "svg.fonttype": "path",
            "pdf.fonttype": 42,
        }
    )


def save_figure(fig: plt.Figure, name: str, folder: Path | None = None) -> dict[str, Path]:
    """Write ``fig`` as PNG and SVG to ``reports/figures`` with metadata stripped (byte-stable files)."""
    folder = Path(folder) if folder is not None else paths.FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for ext, metadata in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        path = folder / f"{name}.{ext}"
        fig.savefig(path, format=ext, metadata=metadata)
        out[ext] = path
    return out


def file_digest(path: Path) -> str:
    """sha256 of a written figure file (used by tests to prove byte stability)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tactic_colors(tactics: list[str]) -> dict[str, str]:
    """One distinguishable colour per tactic id, in codebook order (stable across figures)."""
    return {t: TACTIC_PALETTE[i % len(TACTIC_PALETTE)] for i, t in enumerate(tactics)}


def busiest(weights: pd.Series, n: int = MAX_ITEMS) -> list:
    """Index labels of the ``n`` largest ``weights`` (ties: earlier first), in their original order; all of
    them when there are at most ``n``. A per-document figure of a 20,000-document corpus would draw 20,000
    bars: it draws the busiest documents instead, and the notebook says how many it left out."""
    if len(weights) <= n:
        return list(weights.index)
    top = set(weights.sort_values(ascending=False, kind="stable").index[:n])
    return [label for label in weights.index if label in top]
