import pytest

from tierci.errors import ConfigError
from tierci.sharding import Shard, in_scope, parse_scope, parse_shard, select_shard


def test_parse():
    assert parse_shard("2/4") == Shard(index=2, count=4)
    assert str(parse_shard(" 1 / 3 ")) == "1/3"


@pytest.mark.parametrize("text", ["0/4", "5/4", "a/b", "2", "1/0", ""])
def test_bad_shards_are_clear_errors(text):
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 200])
def test_every_item_in_exactly_one_shard(count):
    items = [f"test_{n}" for n in range(101)]
    shards = [select_shard(items, Shard(index=i, count=count)) for i in range(1, count + 1)]
    flattened = [item for shard in shards for item in shard]
    assert sorted(flattened) == sorted(items)
    assert len(flattened) == len(set(flattened))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_scope_parsing():
    assert parse_scope("25") == 25.0
    assert parse_scope("5%") == 5.0
    for bad in ("0", "101", "x", "-5"):
        with pytest.raises(ConfigError, match="--scope"):
            parse_scope(bad)


def test_scopes_are_stable_nested_and_proportional():
    tests = [f"tests/test_mod.py::test_{n}" for n in range(4000)]
    five = {t for t in tests if in_scope(t, 5)}
    quarter = {t for t in tests if in_scope(t, 25)}
    assert five <= quarter
    assert 150 < len(five) < 250
    assert 900 < len(quarter) < 1100
    assert {t for t in tests if in_scope(t, 100)} == set(tests)
