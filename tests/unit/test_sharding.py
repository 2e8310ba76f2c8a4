import pytest

from tierci.errors import ConfigError
from tierci.sharding import Shard, parse_shard, select_shard


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
