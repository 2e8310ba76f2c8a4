"""The HUD page in real headless Chromium (Debian's /usr/bin/chromium via Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.history_fixture import COMMITS, build_history
from tierci.report.history import RunContext, open_history
from tierci.report.hud import build_hud, write_hud

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

# Debian's package (this machine, .ci/run), else the browser a CI image already ships
# (GitHub's Ubuntu runners: Chromium or Chrome on PATH); CHROMIUM names another.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def find_chromium() -> Path | None:
    named = os.environ.get("CHROMIUM", "")
    for candidate in (named,) if named else CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    return None


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
def browser() -> Iterator[Browser]:
    """One Chromium for the module (Playwright's sync API allows one at a time)."""
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(
            f"no Chromium ({os.environ.get('CHROMIUM') or ', '.join(CHROMIUM_CANDIDATES)}): "
            "apt-get install chromium, or set CHROMIUM to a Chromium or Chrome binary"
        )
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - heavy tier only

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Page]:
    folder = tmp_path_factory.mktemp("hud")
    with open_history(build_history(folder)) as history:
        model = build_hud(history.database)
    (index,) = write_hud(model, folder / "site", ["html"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(index.as_uri())
    yield page
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.goto(index.as_uri())
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()


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


HOSTILE_TIER = "tier-" + "x" * 3000
HOSTILE_NAME = "test_" + "very_long_" * 1000


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Page]:
    """A history with a 10 KB test name, a 3 KB tier, a bidi override in a name and an
    unreadable shard: the HUD stays a page a person can read."""
    folder = tmp_path_factory.mktemp("hostile")
    good = folder / "unit-1of2.xml"
    good.write_text(
        '<testsuites><testsuite name="s"><properties>'
        f'<property name="tier" value="{HOSTILE_TIER}"/></properties>'
        f'<testcase classname="c" name="{HOSTILE_NAME}"><failure message="m"/></testcase>'
        '<testcase classname="c" name="safe&#x202e;gnp.exe"><failure message="m"/></testcase>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    broken = folder / "lint-1of2.xml"
    broken.write_text("<testsuites><testsuite><testcase", encoding="utf-8")
    with open_history(folder / "h.sqlite") as history:
        history.ingest([good, broken], RunContext(commit="e" * 40))
        model = build_hud(history.database)
    (index,) = write_hud(model, folder / "site", ["html"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(index.as_uri())
    yield page
    page.screenshot(path=str(SCREENSHOT.with_name("hud-hostile-screenshot.png")), full_page=True)
    page.close()


def test_long_names_do_not_stretch_the_page(hostile_page: Page) -> None:
    height = hostile_page.evaluate("document.documentElement.scrollHeight")
    width = hostile_page.evaluate("document.documentElement.scrollWidth")
    assert height < 4000
    assert width < 2600
    header = hostile_page.locator("#grid th[title^='tier-xxx']")
    assert header.get_attribute("title") == HOSTILE_TIER  # the whole text, on hover


def test_bidi_overrides_are_shown_not_obeyed(hostile_page: Page) -> None:
    text = hostile_page.locator("#failures").inner_text()
    assert "safe\\u202egnp.exe" in text
    assert "\u202e" not in hostile_page.content()


def test_an_unreadable_shard_says_so_not_zero_failed(hostile_page: Page) -> None:
    cell = hostile_page.locator("#grid td.cell[data-tier=lint] a")
    assert cell.inner_text().strip() == "unreadable"
