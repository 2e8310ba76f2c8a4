from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tierci.errors import UsageError
from tierci.report.durations import junit_test_id, load_durations
from tierci.sharding import (
    MAX_SHARDS,
    Shard,
    balanced_assignment,
    in_scope,
    parse_scope,
    parse_shard,
    select_balanced,
    select_shard,
)


def test_parse() -> None:
    assert parse_shard("2/4") == Shard(index=2, count=4)
    assert str(parse_shard(" 1 / 3 ")) == "1/3"


@pytest.mark.parametrize("text", ["0/4", "5/4", "a/b", "2", "1/0", "", "\u0661/\u0662", "-1/4"])
def test_bad_shards_are_clear_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/100000000000", "at most 10000 shards"),
        (f"1/{MAX_SHARDS + 1}", "at most 10000 shards"),
        ("1/" + "9" * 5000, "at most 10000 shards"),  # past int()'s digit limit
        ("9" * 5000 + "/4", "the index must be between 1 and the count"),
        ("100000000000/100000000000", "at most 10000 shards"),
    ],
)
def test_absurd_shard_counts_are_usage_errors(text: str, expected: str) -> None:
    with pytest.raises(UsageError, match=expected) as caught:
        parse_shard(text)
    assert caught.value.return_code == 4
    assert caught.value.fix


def test_the_largest_allowed_count_still_parses() -> None:
    assert parse_shard(f"{MAX_SHARDS}/{MAX_SHARDS}") == Shard(index=MAX_SHARDS, count=MAX_SHARDS)
    assert parse_shard("007/0010") == Shard(index=7, count=10)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 200])
def test_every_item_in_exactly_one_shard(count: int) -> None:
    items = [f"test_{n}" for n in range(101)]
    shards = [select_shard(items, Shard(index=i, count=count)) for i in range(1, count + 1)]
    flattened = [item for shard in shards for item in shard]
    assert sorted(flattened) == sorted(items)
    assert len(flattened) == len(set(flattened))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_scope_parsing() -> None:
    assert parse_scope("25") == 25.0
    assert parse_scope("5%") == 5.0
    for bad in ("0", "101", "x", "-5", "nan", "NaN%", "inf", "-inf", "1e999", "", "%"):
        with pytest.raises(UsageError, match="--scope"):
            parse_scope(bad)


def test_scopes_are_stable_nested_and_proportional() -> None:
    tests = [f"tests/test_mod.py::test_{n}" for n in range(4000)]
    five = {t for t in tests if in_scope(t, 5)}
    quarter = {t for t in tests if in_scope(t, 25)}
    assert five <= quarter
    assert 150 < len(five) < 250
    assert 900 < len(quarter) < 1100
    assert {t for t in tests if in_scope(t, 100)} == set(tests)


# --- balanced on recorded durations ---------------------------------------------------
RECORDED = Path(__file__).parents[1] / "fixtures" / "durations" / "unit.xml"


def shard_loads(
    ids: Sequence[str], durations: Mapping[str, float], count: int
) -> tuple[list[int], list[float]]:
    shard_of = balanced_assignment(ids, durations, count)
    loads = [0.0] * count
    for test, shard in zip(ids, shard_of, strict=True):
        loads[shard] += durations.get(test, 0.0)
    return shard_of, loads


@pytest.mark.parametrize("count", [2, 3, 4, 6])
def test_recorded_durations_balance_within_15_percent_of_the_mean(count: int) -> None:
    durations = load_durations(RECORDED)  # a real unit-tier run of this repository
    assert len(durations) > 250
    ids = sorted(durations)
    shard_of, loads = shard_loads(ids, durations, count)
    mean = sum(loads) / count
    assert max(loads) <= 1.15 * mean, (max(loads), mean)
    assert len(shard_of) == len(ids)  # one shard per test
    assert all(0 <= shard < count for shard in shard_of)


def test_the_assignment_is_deterministic_and_order_free() -> None:
    durations = load_durations(RECORDED)
    ids = sorted(durations)
    first = dict(zip(ids, balanced_assignment(ids, durations, 4), strict=True))
    shuffled = list(reversed(ids))
    second = dict(zip(shuffled, balanced_assignment(shuffled, durations, 4), strict=True))
    assert first == second


def test_unknown_tests_weigh_the_mean_of_the_known_ones() -> None:
    durations = {"a": 10.0, "b": 1.0}  # mean 5.5: each new test weighs 5.5
    ids = ["new1", "a", "new2", "b", "new3"]
    # a (10) → 0; new1, new2 (5.5 each) → 1; new3 → 0 (15.5 against 11); b → 1.
    assert balanced_assignment(ids, durations, 2) == [1, 0, 1, 1, 0]


def test_twelve_tests_recorded_at_zero_split_four_four_four() -> None:
    """pytest writes fast tests as time="0.000": the count breaks the tie."""
    ids = [f"tests.test_fast::test_{n}" for n in range(12)]
    shard_of = balanced_assignment(ids, dict.fromkeys(ids, 0.0), 3)
    assert sorted(shard_of.count(shard) for shard in range(3)) == [4, 4, 4]


def test_many_zero_durations_still_balance_within_15_percent() -> None:
    ids = [f"t{n}" for n in range(300)]
    durations = {test: (0.0 if n % 3 else 0.5 + (n % 17) / 10) for n, test in enumerate(ids)}
    for count in (2, 3, 4, 6):
        shard_of, loads = shard_loads(ids, durations, count)
        assert max(loads) <= 1.15 * (sum(loads) / count)
        assert all(shard in shard_of for shard in range(count))  # no shard left empty


@pytest.mark.parametrize("odd", [float("nan"), float("inf"), -3.0])
def test_unusable_durations_count_as_unknown(odd: float) -> None:
    ids = ["a", "b", "c", "d"]
    shard_of = balanced_assignment(ids, {"a": odd, "b": 1.0, "c": 1.0, "d": 1.0}, 2)
    assert sorted(shard_of.count(shard) for shard in range(2)) == [2, 2]


def test_the_least_loaded_shard_takes_the_next_test_and_ties_go_to_the_lower() -> None:
    durations = {"a": 3.0, "b": 3.0, "c": 2.0, "d": 1.0, "e": 1.0}
    assert balanced_assignment(list(durations), durations, 2) == [0, 1, 0, 1, 1]
    assert balanced_assignment(list(durations), durations, 7) == [0, 1, 2, 3, 4]


def test_select_balanced_keeps_collection_order_and_covers_everything() -> None:
    durations = {f"t{i}": float(i % 7) for i in range(40)}
    items = [f"t{i}" for i in range(45)]  # five without a recorded duration
    shards = [select_balanced(items, Shard(index=i, count=3), durations, str) for i in (1, 2, 3)]
    assert sorted(item for shard in shards for item in shard) == sorted(items)
    for shard in shards:
        assert shard == [item for item in items if item in shard]


def test_pytest_ids_match_the_junit_ids() -> None:
    assert junit_test_id("tests/unit/test_x.py::TestA::test_b[1-2]") == (
        "tests.unit.test_x.TestA::test_b[1-2]"
    )
    assert junit_test_id("tests/test_y.py::test_z") == "tests.test_y::test_z"
