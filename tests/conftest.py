"""Shared fixtures: a headless Chromium for the report's browser checks (installed from Debian when missing)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _find_chromium() -> Path | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return Path(found)
    default = Path("/usr/bin/chromium")
    return default if default.exists() else None


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Path of a Chromium executable; runs ``apt-get install chromium`` once if none is found (as CI does)."""
    found = _find_chromium()
    if found is None and os.environ.get("CUISHOU_SKIP_BROWSER"):
        pytest.skip("CUISHOU_SKIP_BROWSER is set and no chromium is installed")
    if found is None:
        if not shutil.which("apt-get") or os.geteuid() != 0:
            pytest.fail("chromium is missing and cannot be installed here (needs root and apt-get): "
                        "run `apt-get install -y chromium` or set CUISHOU_SKIP_BROWSER=1")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
        found = _find_chromium()
        if found is None:
            pytest.fail("apt-get install chromium finished but no chromium executable was found")
    return found
