"""The HUD page in real headless Chromium (Debian's /usr/bin/chromium via Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.history_fixture import COMMITS, build_history
from tierci.report.history import open_history
from tierci.report.hud import build_hud, write_hud

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).parents[2] / "build" / "hud-screenshot.png"
# Chromium in this sandbox: no GPU, and no background traffic to a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (the heavy tier needs it)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - heavy tier only

    folder = tmp_path_factory.mktemp("hud")
    with open_history(build_history(folder)) as history:
        model = build_hud(history.connection)
    (index,) = write_hud(model, folder / "site", ["html"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(index.as_uri())
        yield page
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.goto(index.as_uri())
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()


def test_grid_has_a_row_per_commit_and_a_cell_per_tier(page: Page) -> None:
    rows = page.locator("#grid tr[data-commit]")
    assert rows.count() == len(COMMITS)
    assert rows.first.get_attribute("data-commit") == COMMITS[-1]  # newest first
    assert page.locator("#grid tr[data-commit] td[data-tier]").count() == len(COMMITS) * 3
    statuses = page.locator("#grid td.cell[data-tier=unit]").evaluate_all(
        "cells => cells.map(c => c.dataset.status)"
    )
    assert statuses == ["missing", "flaky", "failed", "passed"]


def test_a_failed_cell_links_to_its_failures(page: Page) -> None:
    cell = page.locator(f"#grid tr[data-commit='{COMMITS[1]}'] td[data-tier=unit] a")
    assert "1 failed" in cell.inner_text()
    cell.click()
    target = page.locator(f"#cell-{COMMITS[1][:12]}-unit")
    assert target.is_visible()
    assert "tests.test_unit::test_b0" in target.inner_text()
    assert "assert 1 == 2" in target.inner_text()
    assert page.evaluate("location.hash") == f"#cell-{COMMITS[1][:12]}-unit"


def test_missing_shard_is_shown_with_its_file(page: Page) -> None:
    page.locator(f"#grid tr[data-commit='{COMMITS[-1]}'] td[data-tier=unit] a").click()
    text = page.locator(f"#cell-{COMMITS[-1][:12]}-unit").inner_text()
    assert "no report for unit shard 2/2" in text


def test_flaky_table_and_gates(page: Page) -> None:
    rows = page.locator("#flaky-table tr.flaky-test")
    assert rows.count() == 1
    assert "tests.test_unit::test_a3" in rows.first.inner_text()
    assert "50.0%" in rows.first.inner_text()
    assert page.locator("#gates tr.gate-row[data-passed=false]").count() >= 2
    assert page.locator("#durations svg polyline").count() == 3


def test_the_page_needs_no_network(page: Page) -> None:
    # Everything is inline: no stylesheet, script or image is fetched from anywhere.
    external = page.evaluate(
        "[...document.querySelectorAll('link[href], script[src], img[src]')].length"
    )
    assert external == 0
