from pathlib import Path

import pytest
from packaging.version import Version

from tierci.errors import LockError
from tierci.locks.lockfile import LockedRequirement, read_lock
from tierci.wheelhouse.model import Target, cache_key, locked_pins, variant_of

SMALL = Path(__file__).parents[1] / "fixtures" / "small-locks" / "small.txt"
HASH_A = "sha256:" + "a" * 64
HASH_B = "sha256:" + "b" * 64


def write(tmp_path: Path, text: str, name: str = "x.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_pins_hashes_and_continuations() -> None:
    pins: dict[str, LockedRequirement] = {r.name: r for r in read_lock(SMALL)}
    assert set(pins) == {"docopt", "iniconfig", "six", "tomli-w"}
    assert pins["six"].version == Version("1.17.0")
    assert len(pins["six"].hashes) == 2
    assert pins["tomli-w"].pin == "tomli-w==1.2.0"


def test_markers_select_per_target(tmp_path: Path) -> None:
    lock = write(
        tmp_path,
        f'tomli==2.0.1 ; python_version < "3.11" \\\n    --hash={HASH_A}\n'
        f"six==1.17.0 --hash={HASH_B}\n",
    )
    assert set(locked_pins([read_lock(lock)], Target.for_python("3.10"))) == {
        "tomli==2.0.1",
        "six==1.17.0",
    }
    assert set(locked_pins([read_lock(lock)], Target.for_python("3.12"))) == {"six==1.17.0"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("six>=1.0 --hash=" + HASH_A + "\n", r"x.txt:1: six is not pinned"),
        ("\n\nsix==1.17.0\n", r"x.txt:3: six has no --hash"),
        ("six ((1 --hash=" + HASH_A + "\n", r"x.txt:1: not a requirement line"),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(LockError, match=expected):
        read_lock(write(tmp_path, text))


def test_a_missing_lock_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(LockError, match="nox -s lock"):
        read_lock(tmp_path / "absent.txt")


def test_the_digest_ignores_comments_but_not_hashes(tmp_path: Path) -> None:
    base = write(tmp_path, f"six==1.17.0 \\\n    --hash={HASH_A}\n    # via x\n")
    commented = write(tmp_path, f"# header\nsix==1.17.0 --hash={HASH_A}  # via y\n", "y.txt")
    commented = commented.rename(tmp_path / "sub.txt")
    (tmp_path / "d").mkdir()
    moved = commented.rename(tmp_path / "d" / "x.txt")
    assert read_lock(base).digest == read_lock(moved).digest
    rehashed = write(tmp_path, f"six==1.17.0 --hash={HASH_B}\n", "z.txt")
    assert read_lock(base).digest != read_lock(rehashed.rename(tmp_path / "d" / "x.txt")).digest


def test_same_pin_in_two_locks_merges_hashes_two_versions_stay_two(tmp_path: Path) -> None:
    one = write(tmp_path, f"six==1.17.0 --hash={HASH_A}\n", "one.txt")
    two = write(tmp_path, f"six==1.17.0 --hash={HASH_B}\nsix==1.16.0 --hash={HASH_A}\n", "two.txt")
    pins = locked_pins([read_lock(one), read_lock(two)], Target.host())
    assert set(pins) == {"six==1.17.0", "six==1.16.0"}
    assert pins["six==1.17.0"].hashes == {HASH_A, HASH_B}


def test_the_variant_comes_from_local_versions(tmp_path: Path) -> None:
    cpu = write(tmp_path, f"torch==2.13.0+cpu --hash={HASH_A}\n", "cpu.txt")
    assert variant_of([read_lock(cpu)]) == "cpu"
    assert variant_of([read_lock(SMALL)]) == "default"


def test_the_cache_key_changes_with_python_variant_and_lock(tmp_path: Path) -> None:
    host = Target.host()
    key = cache_key([read_lock(SMALL)], host)
    assert key.startswith(f"{host.python_tag}-{host.platform}-default-")
    assert cache_key([read_lock(SMALL)], host) == key
    assert cache_key([read_lock(SMALL)], Target.for_python("3.9")) != key
    assert cache_key([read_lock(SMALL)], host, "cu126") != key
    other = write(tmp_path, f"six==1.16.0 --hash={HASH_A}\n", "small.txt")
    assert cache_key([read_lock(other)], host) != key


def test_a_foreign_target_asks_pip_for_its_python() -> None:
    target = Target.for_python("3.9")
    assert target.pip_args() == ["--python-version", "3.9", "--implementation", "cp"]
    assert any(str(tag).startswith("cp39-cp39-") for tag in target.tags)
    assert Target.host().pip_args() == []


def test_a_foreign_platform_has_its_own_tags_and_pip_platforms() -> None:
    target = Target.for_python("3.12", "manylinux_2_28_aarch64")
    names = {str(tag) for tag in target.tags}
    assert "cp312-cp312-manylinux_2_17_aarch64" in names
    assert "cp312-cp312-manylinux2014_aarch64" in names
    assert not any("x86_64" in name for name in names)
    assert target.environment["platform_machine"] == "aarch64"
    arguments = target.pip_args()
    assert arguments[arguments.index("--platform") + 1] == "manylinux_2_28_aarch64"
    assert cache_key([read_lock(SMALL)], target).startswith("cp312-manylinux_2_28_aarch64-")


def test_a_direct_wheel_reference_is_pinned_by_its_file(tmp_path: Path) -> None:
    url = "file:///wheels/tierci-0.1.0-py3-none-any.whl"
    lock = write(tmp_path, f"tierci @ {url} \\\n    --hash={HASH_A}\n")
    (pin,) = read_lock(lock).requirements
    assert (pin.name, str(pin.version), pin.url) == ("tierci", "0.1.0", url)
    assert pin.pin == "tierci==0.1.0"
    assert pin.requirement_line() == f"tierci @ {url} --hash={HASH_A}"


def test_a_direct_reference_to_anything_but_a_wheel_is_refused(tmp_path: Path) -> None:
    lock = write(tmp_path, f"tierci @ file:///src/tierci.tar.gz --hash={HASH_A}\n")
    with pytest.raises(LockError, match="is not a wheel file"):
        read_lock(lock)


# --- hostile locks: options, weak hashes ----------------------------------------------
REPO = Path(__file__).parents[2]
EVERY_LOCK = sorted(
    [
        *(REPO / "requirements").glob("*.txt"),
        *(REPO / "examples" / "native-ml" / "requirements").glob("*.txt"),
        *(
            path  # the fixtures' hashed locks, not their other text files
            for path in (REPO / "tests" / "fixtures").rglob("*.txt")
            if "--hash=" in path.read_text(encoding="utf-8", errors="replace")
        ),
    ]
)
PIN = f"six==1.17.0 --hash={HASH_A}\n"
REDIRECT = "--extra-index-url https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize("lock", EVERY_LOCK, ids=lambda path: str(path.relative_to(REPO)))
def test_every_lock_of_the_repository_still_reads(lock: Path) -> None:
    assert read_lock(lock).requirements


@pytest.mark.parametrize(
    "option",
    [
        "--index-url https://evil.example/simple",
        "--index-url=https://evil.example/simple",
        "-i https://evil.example/simple",
        "--extra-index-url https://evil.example/simple",
        "--find-links /tmp/wheels",
        "-f https://evil.example/wheels",
        "--trusted-host evil.example",
        "--no-index",
        "--no-binary :all:",
        "--pre",
        "  --index-url https://evil.example/simple  # indented, with a comment",
    ],
)
def test_an_option_line_is_an_error_naming_file_and_line(tmp_path: Path, option: str) -> None:
    lock = write(tmp_path, f"# header\n{PIN}{option}\n{PIN.replace('six', 'idna')}")
    with pytest.raises(LockError, match=r"x\.txt:3: '-") as caught:
        read_lock(lock)
    assert "lock_options" in str(caught.value.fix)


@pytest.mark.parametrize(
    "option",
    [
        "-r /etc/other.txt",
        "-r../outside.txt",
        "--requirement other.txt",
        "--requ other.txt",
        "-c constraints.txt",
        "--constraint=constraints.txt",
        "-e git+https://evil.example/pkg.git#egg=pkg",
        "--editable ./pkg",
    ],
)
def test_includes_and_editables_are_errors_even_when_listed(tmp_path: Path, option: str) -> None:
    lock = write(tmp_path, f"{PIN}{option}\n")
    with pytest.raises(LockError, match=r"x\.txt:2: .* may not include other files") as caught:
        read_lock(lock, allowed_options=[option])
    assert "remove the line" in str(caught.value.fix)


def test_an_option_hidden_by_a_continuation_or_after_a_comment_is_still_read(
    tmp_path: Path,
) -> None:
    # uv ends a comment at the newline, backslash or not: the next line is an option.
    after_comment = write(tmp_path, f"six==1.17.0 --hash={HASH_A}  # via x \\\n{REDIRECT}\n")
    with pytest.raises(LockError, match=r"x\.txt:2: '--extra-index-url"):
        read_lock(after_comment)
    last_line = write(tmp_path, f"{PIN}{REDIRECT} \\", "last.txt")
    with pytest.raises(LockError, match=r"last\.txt:2: '--extra-index-url"):
        read_lock(last_line)


def test_an_allowed_option_line_is_kept_exactly_and_changes_the_digest(tmp_path: Path) -> None:
    spaced = REDIRECT.replace(" ", "   ").replace("--extra-index-url   ", "--extra-index-url=")
    lock = write(tmp_path, f"{spaced}\n{PIN}")
    allowed = read_lock(lock, allowed_options=[REDIRECT])
    assert allowed.options == (REDIRECT,)
    assert [r.pin for r in allowed] == ["six==1.17.0"]
    plain = write(tmp_path, PIN, "plain.txt").rename(tmp_path / "sub.txt")
    (tmp_path / "d").mkdir()
    assert allowed.digest != read_lock(plain.rename(tmp_path / "d" / "x.txt")).digest


def test_only_the_exact_allowed_line_passes(tmp_path: Path) -> None:
    lock = write(tmp_path, f"{PIN}--extra-index-url https://download.pytorch.org/whl/cu126\n")
    with pytest.raises(LockError, match=r"x\.txt:2: '--extra-index-url .*/cu126'"):
        read_lock(lock, allowed_options=[REDIRECT])


def test_an_option_after_a_pin_is_an_error_naming_it(tmp_path: Path) -> None:
    lock = write(tmp_path, f"six==1.17.0 --hash={HASH_A} --index-url https://evil.example/\n")
    with pytest.raises(LockError, match=r"x\.txt:1: '--index-url' on a requirement line"):
        read_lock(lock, allowed_options=["--index-url https://evil.example/"])


@pytest.mark.parametrize(
    ("hash_text", "expected"),
    [
        ("md5:" + "a" * 32, "has a md5 hash"),
        ("sha1:" + "a" * 40, "has a sha1 hash"),
        ("SHA256:" + "a" * 64, "has a SHA256 hash"),
        ("a" * 64, "has a " + "a" * 64 + " hash"),
        ("sha256:xyz", "has a malformed sha256 hash"),
        ("sha256:" + "a" * 63, "has a malformed sha256 hash"),
        ("sha256:" + "a" * 65, "has a malformed sha256 hash"),
        ("sha256:" + "A" * 64, "has a malformed sha256 hash"),
        ("sha512:" + "a" * 64, "has a malformed sha512 hash"),
        ("sha256:", "has a malformed sha256 hash"),
    ],
)
def test_weak_or_malformed_hashes_are_errors_naming_file_and_line(
    tmp_path: Path, hash_text: str, expected: str
) -> None:
    # One good hash beside the bad one does not make the line good.
    lock = write(tmp_path, f"{PIN}six==1.16.0 \\\n    --hash={HASH_B} \\\n    --hash={hash_text}\n")
    with pytest.raises(LockError, match=rf"x\.txt:2: six {expected}") as caught:
        read_lock(lock)
    assert "nox -s lock" in str(caught.value.fix)


def test_sha384_and_sha512_are_accepted(tmp_path: Path) -> None:
    strong = {"sha384:" + "c" * 96, "sha512:" + "d" * 128}
    lock = write(tmp_path, "six==1.17.0 " + " ".join(f"--hash={h}" for h in sorted(strong)))
    (pin,) = read_lock(lock).requirements
    assert pin.hashes == strong


def test_a_direct_reference_with_a_weak_hash_is_refused(tmp_path: Path) -> None:
    url = "file:///wheels/tierci-0.1.0-py3-none-any.whl"
    lock = write(tmp_path, f"tierci @ {url} --hash=md5:{'a' * 32}\n")
    with pytest.raises(LockError, match=r"x\.txt:1: tierci has a md5 hash"):
        read_lock(lock)


def test_a_lock_that_is_not_utf8_is_an_error_naming_it(tmp_path: Path) -> None:
    lock = tmp_path / "x.txt"
    lock.write_bytes(b"six==1.17.0 --hash=" + HASH_A.encode() + b"\n\xff\xfe\n")
    with pytest.raises(LockError, match=r"x\.txt is not UTF-8 text"):
        read_lock(lock)
