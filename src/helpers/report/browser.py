"""The browser step: the report in a real headless Chromium, loaded (``browser_check``) or printed (``print_pdf``).

Printing uses Chromium's own command line (``--print-to-pdf``). The check needs what only the browser knows (every
request, failed loads, the platform fonts it drew each element's glyphs with), so it drives Chromium through
Playwright, a maintained library, using the system Chromium (no browser download).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any, Iterator, Sequence

from .html import CJK

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")
FONT_FACES = "document.fonts.ready.then(() => [...document.fonts].map(f => [f.family, f.status]))"


@contextmanager
def chromium_profile() -> Iterator[str]:
    """A throw-away Chromium profile folder. Removed with retries: Chromium's helper processes (crash handler,
    renderer) may still write into it for a moment after the browser has exited ("Directory not empty")."""
    folder = tempfile.mkdtemp(prefix="report-chromium-")
    try:
        yield folder
    finally:
        _remove_profile(folder)


def _remove_profile(folder: str, tries: int = 50) -> None:
    """Remove ``folder``, retrying while helper processes still write into it; never fail the caller."""
    for _ in range(tries):
        try:
            shutil.rmtree(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(folder, ignore_errors=True)


def print_pdf(page: str | Path, pdf: str | Path, chromium: str | Path = "chromium") -> Path:
    """Print the report to PDF with headless Chromium's ``--print-to-pdf`` (``make report-pdf``)."""
    pdf = Path(pdf).resolve()
    with chromium_profile() as tmp:
        subprocess.run([str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={tmp}", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", Path(page).resolve().as_uri()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    return pdf


def browser_check(
    page: str | Path,
    chromium: str | Path = "chromium",
    selectors: Sequence[str] = ("h1", "h2", "p", "td", "th", "figcaption", "li"),
    per_selector: int = 8,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Load ``page`` in headless Chromium; report every request, failed loads and the fonts really used.

    ``fonts`` holds, for sampled elements with Chinese text, the platform fonts Chromium drew
    their glyphs with (``CSS.getPlatformFontsForNode``: family, custom web font or not, glyphs).
    """
    # Playwright is a test dependency (``.[test]``): `make report` runs without it, so it is imported here.
    from playwright.sync_api import sync_playwright

    executable = shutil.which(str(chromium)) or str(chromium)
    with chromium_profile() as profile, sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS), timeout=timeout * 1000)
        try:
            return _inspect(context.new_page(), Path(page).resolve().as_uri(), selectors, per_selector, timeout)
        finally:
            context.close()


def _inspect(tab: Any, url: str, selectors: Sequence[str], per_selector: int, timeout: float) -> dict[str, Any]:
    """Open ``url`` in a Playwright page and collect requests, failures, font faces and per-element fonts."""
    requests: list[str] = []
    failed: list[dict[str, Any]] = []
    tab.on("request", lambda r: requests.append(r.url))
    tab.on("requestfailed", lambda r: failed.append({"url": r.url, "error": r.failure}))
    tab.goto(url, wait_until="load", timeout=timeout * 1000)
    faces = tab.evaluate(FONT_FACES)
    devtools = tab.context.new_cdp_session(tab)
    for domain in ("DOM", "CSS"):
        devtools.send(f"{domain}.enable")
    return {
        "title": tab.title(),
        "requests": sorted({u if not u.startswith("data:") else u[:40] + "…" for u in requests}),
        "failed": failed,
        "font_faces": [tuple(x) for x in faces],
        "fonts": _element_fonts(devtools, selectors, per_selector),
    }


def _element_fonts(devtools: Any, selectors: Sequence[str], per_selector: int) -> list[dict[str, Any]]:
    """Up to ``per_selector`` elements with Chinese text per selector, and the platform fonts that drew them."""
    root = devtools.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    fonts = []
    for selector in selectors:
        nodes = devtools.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
        sampled = 0
        for node in nodes:
            if sampled >= per_selector:
                break
            text = _node_text(devtools, node)
            if not CJK.search(text):
                continue
            sampled += 1
            used = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            fonts.append({"selector": selector, "text": text.strip()[:60], "fonts": used})
    return fonts


def _node_text(devtools: Any, node: int) -> str:
    """The text of a DOM node (its outer HTML without tags, entities decoded)."""
    outer = devtools.send("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
    return unescape(re.sub(r"<[^>]+>", "", outer))
