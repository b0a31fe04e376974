"""Test-wide settings: offline data, a throw-away cache, headless plots."""

import os
import pathlib
import tempfile

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# The loaders read the offline copies beside the repo when they exist (CI), and
# never write into the developer's real cache during tests.
if "CFS_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["CFS_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("CFS_CACHE_DIR", tempfile.mkdtemp(prefix="cfs-test-cache-"))


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _no_shared_results(monkeypatch):
    """Unit tests compute: ``make test`` shares results between notebooks only.

    With ``CFS_MEMO_DIR`` (lib/_memo.py) a second seeded training would load the
    first, and a test that trains twice to prove determinism would prove nothing.
    """
    monkeypatch.delenv("CFS_MEMO_DIR", raising=False)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright (never `playwright install`).

    The flags keep it off the network: the machines reach only package registries.
    """
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), (
        f"Chromium not found at {CHROMIUM}; apt-get install chromium"
    )
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()
