"""Expected reports per Python: a tier run on several Pythons expects each one's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierci.errors import ConfigError
from tierci.junit.merge import Expectation, add_missing, parse_expectation, per_python, read_entry
from tierci.report.history import RunContext, open_history

# A report of unit shard 1/2 whose tests ran on Python 3.11 (the plugin's properties).
REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="1"><properties>
<property name="tier" value="unit"/><property name="shard" value="1/2"/>
<property name="python" value="3.11.7"/>
</properties><testcase classname="t" name="a" time="0.1"/></testsuite></testsuites>
"""


def test_an_expectation_may_name_its_python() -> None:
    assert parse_expectation("unit@3.12:4") == Expectation(tier="unit", shards=4, python="3.12")
    assert parse_expectation("unit@3.13") == Expectation(tier="unit", python="3.13")
    for wrong in ("unit@", "unit@3", "unit@three:2", "@3.12:2"):
        with pytest.raises(ConfigError, match="TIER@PYTHON:SHARDS"):
            parse_expectation(wrong)


def test_a_tier_with_pythons_expects_each_ones_shards() -> None:
    expanded = per_python(
        [Expectation(tier="unit", shards=2), Expectation(tier="lint")],
        {"unit": ("3.11", "3.12"), "lint": ()},
    )
    assert expanded == [
        Expectation(tier="unit", shards=2, python="3.11"),
        Expectation(tier="unit", shards=2, python="3.12"),
        Expectation(tier="lint"),
    ]
    chosen = [Expectation(tier="unit", shards=2, python="3.13")]
    assert per_python(chosen, {"unit": ("3.11",)}) == chosen  # its own Python stays


def test_one_pythons_shards_do_not_stand_in_for_anothers(tmp_path: Path) -> None:
    report = tmp_path / "unit-py3.11-1of2.xml"
    report.write_text(REPORT, encoding="utf-8")
    entries = add_missing(
        [read_entry(report)],
        [
            Expectation(tier="unit", shards=2, python="3.11"),
            Expectation(tier="unit", shards=2, python="3.12"),
        ],
        tmp_path,
    )
    # The report that came says its Python too: three Pythons' shard 1/2 read apart.
    assert entries[0].label == "unit shard 1/2 on Python 3.11"
    holes = [(entry.label, entry.path.name) for entry in entries[1:]]
    assert holes == [
        ("unit shard 2/2 on Python 3.11", "unit-py3.11-2of2.xml"),
        ("unit shard 1/2 on Python 3.12", "unit-py3.12-1of2.xml"),
        ("unit shard 2/2 on Python 3.12", "unit-py3.12-2of2.xml"),
    ]
    # Any Python's report satisfies an expectation that names none.
    any_python = add_missing([read_entry(report)], [Expectation(tier="unit", shards=2)], tmp_path)
    assert [entry.label for entry in any_python[1:]] == ["unit shard 2/2"]


def test_a_missing_pythons_holes_are_stored_in_its_slot(tmp_path: Path) -> None:
    report = tmp_path / "unit-py3.11-1of2.xml"
    report.write_text(REPORT, encoding="utf-8")
    expect = [Expectation(tier="unit", shards=2, python=v) for v in ("3.11", "3.12")]
    with open_history(tmp_path / "h.sqlite") as history:
        for _ in range(2):  # twice: a hole is stored once
            history.ingest([report], RunContext(commit="c"), expect=expect, junit_dir=tmp_path)
        rows = history.database.rows(
            "SELECT shard, python, status FROM runs ORDER BY python, shard"
        )
    assert [tuple(row) for row in rows] == [
        ("2/2", "3.11", "missing"),
        ("1/2", "3.11.7", "ok"),
        ("1/2", "3.12", "missing"),
        ("2/2", "3.12", "missing"),
    ]
