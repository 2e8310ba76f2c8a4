"""Strings from reports are data wherever tierci shows them, in real processes: the
terminal (rich), the Markdown step summary (rendered by a real Markdown parser),
GitHub workflow commands and the pipeline summary."""

from __future__ import annotations

import sys
from pathlib import Path

from markdown_it import MarkdownIt

from tests.support import run

TEN_KB_NAME = "test_" + "very_long_" * 1000
INJECTIONS = (
    "&lt;img src=x onerror=alert(1)&gt; ![p](https://evil.example/p.png) "
    "[x](https://evil.example) `` ```"
)
REPORT = "\n".join(
    [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<testsuites><testsuite name="s"><properties>',
        '<property name="tier" value="[/]"/><property name="shard" value="[bold]1/1"/>',
        "</properties>",
        f'<testcase classname="[red]c" name="safe&#x202e;gnp.exe"><failure message="{INJECTIONS}">',
        "# boom",
        "### heading",
        "| a | b |</failure></testcase>",
        f'<testcase classname="c" name="{TEN_KB_NAME}">',
        '<failure message="line one&#13;&#10;::error::injected"/></testcase>',
        '<testcase classname="c" name="ok"/>',
        "</testsuite></testsuites>",
    ]
)


def _tierci(*args: str, cwd: Path, **env: str) -> tuple[int, str]:
    ran = run([sys.executable, "-m", "tierci.cli", *args], cwd, **env)
    return ran.returncode, ran.output


def test_rich_prints_report_strings_as_they_are(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text(REPORT, encoding="utf-8")
    code, output = _tierci("junit", "merge", str(tmp_path / "all.xml"), str(report), cwd=tmp_path)
    assert code == 0, output
    assert "Traceback" not in output
    assert "[/]" in output  # a closing tag as a tier name: printed, not parsed
    assert "[bold]1/1" in output


def test_the_markdown_summary_cannot_inject_html_links_images_or_headings(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text(REPORT, encoding="utf-8")
    db, summary = tmp_path / "h.sqlite", tmp_path / "step-summary.md"
    code, output = _tierci("report", "ingest", str(report), "--db", str(db), cwd=tmp_path)
    assert code == 0, output
    hud = ["report", "hud", "--db", str(db), "--out", str(tmp_path / "hud")]
    code, output = _tierci(
        *hud, "--format", "markdown", cwd=tmp_path, GITHUB_STEP_SUMMARY=str(summary)
    )
    assert code == 0, output
    text = summary.read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<img" not in html
    assert "<a " not in html
    assert "onerror" not in html.replace("onerror=alert(1)&gt;", "")  # only as escaped text
    # Only tierci's own headings: none from the report.
    headings = [line for line in html.splitlines() if line.startswith(("<h1", "<h2", "<h3"))]
    assert all("boom" not in line and ">heading<" not in line for line in headings)
    assert "\\u202e" in text  # the override is shown, not obeyed
    assert len(text) < 20_000  # a 10 KB name is clipped, with the count of the rest


def test_github_annotations_stay_one_command(tmp_path: Path) -> None:
    script = tmp_path / "summary.py"
    script.write_text(
        "from tierci.console import print_summary\n"
        "from tierci.pipeline import Status, TierResult\n"
        "print_summary([TierResult(tier='unit:x,y', status=Status.FAILED, duration_s=1.0,\n"
        "    reason='100% broken\\n::error::injected')])\n",
        encoding="utf-8",
    )
    ran = run([sys.executable, str(script)], tmp_path, GITHUB_ACTIONS="true")
    assert ran.returncode == 0, ran
    commands = [line for line in ran.output.splitlines() if line.startswith("::")]
    assert commands == ["::error title=tier unit%3Ax%2Cy failed::100%25 broken%0A::error::injected"]
