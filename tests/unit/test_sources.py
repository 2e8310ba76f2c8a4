"""[tool.tierci] find_links / extra_index_urls: every lock carries them relative to its
own folder, they are allowed there (and nowhere else), and a lock naming one machine's
path is stale. Installing from such a lock for real: tests/e2e/test_adopting.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import REPO
from tierci.config import load_config
from tierci.errors import ConfigError, LockError
from tierci.locks import compile as locks
from tierci.locks.lockfile import read_lock


def project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nversion = "1"\n\n[tool.tierci]\n{table}\n', encoding="utf-8"
    )
    requirements = tmp_path / "requirements"
    requirements.mkdir()
    (requirements / "unit.in").write_text("tierci\n", encoding="utf-8")
    return tmp_path


def test_each_lock_carries_the_sources_relative_to_its_folder(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'find_links = ["ci/wheels", "https://wheels.example.com/"]\n'
        'extra_index_urls = ["https://pypi.example.com/simple"]',
    )
    config = load_config(root)
    assert config.sources is not None
    assert config.sources.option_lines(root / "requirements") == (
        "--find-links ../ci/wheels",
        "--find-links https://wheels.example.com/",
        "--extra-index-url https://pypi.example.com/simple",
    )
    (spec,) = locks.lock_specs(config)
    assert spec.source_arguments == (
        "--find-links",
        "ci/wheels",
        "--find-links",
        "https://wheels.example.com/",
        "--extra-index-url",
        "https://pypi.example.com/simple",
    )
    spec.lock.write_text("#\n# header\n#\ntierci==1.0 \\\n    --hash=sha256:" + "a" * 64 + "\n")
    locks._stamp(spec.lock, locks.input_digest(spec, config.pyproject), spec.source_lines)
    lines = spec.lock.read_text(encoding="utf-8").splitlines()
    assert lines[3].startswith(locks.DIGEST_PREFIX)
    assert lines[4:7] == list(spec.source_lines)
    # Allowed in this project's locks, read strictly as every lock is; fresh.
    assert [r.name for r in read_lock(spec.lock, allowed_options=config.lock_options)] == ["tierci"]
    assert locks.find_stale([spec], config.pyproject) == []
    # Another project (no sources) refuses the same lock's option lines.
    with pytest.raises(LockError, match="--find-links"):
        read_lock(spec.lock, allowed_options=())


def test_changing_the_sources_makes_the_locks_stale(tmp_path: Path) -> None:
    root = project(tmp_path, 'find_links = ["wheels"]')
    (spec,) = locks.lock_specs(load_config(root))
    digest = locks.input_digest(spec, root / "pyproject.toml")
    root.joinpath("pyproject.toml").write_text(
        root.joinpath("pyproject.toml").read_text().replace('"wheels"', '"vendor"')
    )
    (moved,) = locks.lock_specs(load_config(root))
    assert locks.input_digest(moved, root / "pyproject.toml") != digest


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('find_links = ["/home/me/wheels"]', "not a folder of this repository"),
        ('find_links = ["file:///srv/wheels"]', "not a folder of this repository"),
        ('find_links = ["file:/srv/wheels"]', "not a folder of this repository"),
        ('find_links = ["FILE:wheels"]', "not a folder of this repository"),
        ('find_links = ["~/wheels"]', "not a folder of this repository"),
        ('find_links = ["../../etc"]', "not a folder of this repository"),
        ('find_links = ["./../../..//abs"]', "not a folder of this repository"),
        ('find_links = ["C:\\\\wheels"]', "not a folder of this repository"),
        ('find_links = ["${HOME}/w"]', "not a folder of this repository"),
        ('find_links = ["wheels\\n-e /tmp/evil"]', "without spaces, line breaks"),
        ('find_links = ["wheels\\r--pre"]', "without spaces, line breaks"),
        ('find_links = ["-r/etc/passwd"]', "without spaces, line breaks or a leading"),
        ('find_links = ["https://user:pw@h/w"]', "credentials"),
        (
            'extra_index_urls = ["https://h/simple --index-url https://evil.example/simple"]',
            "without spaces",
        ),
        ('extra_index_urls = ["pypi.example.com/simple"]', r"not an http\(s\) URL"),
        ('extra_index_urls = ["https:///nohost"]', "without a host"),
        ('extra_index_urls = ["https://me:s3cret@pypi.example.com/simple"]', "credentials"),
        ('extra_index_urls = ["https://s3cret@pypi.fury.io/acct/"]', "credentials"),
        ('extra_index_urls = ["https://u%3As3cret@h/simple"]', "credentials"),
        ('find_links = "wheels"', "must be a list"),
    ],
)
def test_unportable_or_unsafe_sources_are_refused(tmp_path: Path, table: str, message: str) -> None:
    root = project(tmp_path, table)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(root)
    assert "s3cret" not in str(caught.value)


def test_a_lock_naming_a_path_of_one_machine_is_stale(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    (spec,) = locks.lock_specs(load_config(root))
    body = "tierci @ file:///home/me/dist/tierci-1.0-py3-none-any.whl \\\n"
    body += "    --hash=sha256:" + "a" * 64 + "\n"
    spec.lock.write_text("#\n# header\n#\n" + body, encoding="utf-8")
    locks._stamp(spec.lock, locks.input_digest(spec, root / "pyproject.toml"))
    (stale,) = locks.find_stale([spec], root / "pyproject.toml")
    assert "line 5 names a path of this machine" in stale.reason
    assert "find_links" in stale.reason


def test_the_bundled_pip_tools_lock_is_tierci_s_own_lock_session_lock() -> None:
    # What compiles an adopter's first requirements/lock.txt: kept equal to the lock
    # this repository's own lock session runs (`nox -s lock` recompiles that one).
    bundled = REPO / "src" / "tierci" / "locks" / "pip-tools.txt"
    assert bundled.read_text() == (REPO / "requirements" / "lock.txt").read_text()


def _stale_with(tmp_path: Path, line: str) -> list[locks.StaleLock]:
    """A fresh lock with ``line`` added by hand, checked."""
    root = project(tmp_path, "")
    (spec,) = locks.lock_specs(load_config(root))
    spec.lock.write_text("#\n# header\n#\n", encoding="utf-8")
    locks._stamp(spec.lock, locks.input_digest(spec, root / "pyproject.toml"))
    with spec.lock.open("a", encoding="utf-8") as lock:
        lock.write(f"{line}\n")
    return locks.find_stale([spec], root / "pyproject.toml")


@pytest.mark.parametrize(
    "line",
    [
        "demo @ FILE:///home/me/demo-1.0-py3-none-any.whl",
        "-f /abs",
        "-f/abs",
        "--find-links ~/w",
        "--find-links FILE:///abs",
        "--find-link /abs",
        "--find /abs",
        "--find-links=/abs",
        "--extra-index-url file:///abs",
        "--index-url /abs/simple",
        "-i file:///abs",
        "--find-links ../../../../home/me/w",
    ],
)
def test_every_spelling_of_a_machine_path_is_found(tmp_path: Path, line: str) -> None:
    (stale,) = _stale_with(tmp_path, line)
    assert "names a path of this machine" in stale.reason


@pytest.mark.parametrize(
    "line",
    ["--find-links ../wheels", "--find-links https://x.example/w", "x==1 --hash=sha256:ab"],
)
def test_portable_lines_are_not_machine_paths(tmp_path: Path, line: str) -> None:
    assert _stale_with(tmp_path, line) == []
