"""A real wheelhouse from a small real lock: pip downloads from the index, docopt is
built from its sdist, then everything is installed offline into fresh environments
with no index reachable, and every kind of damage is refused by name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.support import REPO, run, tierci

SMALL_LOCKS = REPO / "tests" / "fixtures" / "small-locks"
# Nothing is listening there: an install that tried the index would fail.
NO_INDEX = {
    "UV_INDEX_URL": "http://127.0.0.1:9/simple",
    "UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple",
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
}
WHEELS = {"six==1.17.0", "iniconfig==2.3.1", "tomli-w==1.2.0", "docopt==0.6.2"}


def make_project(folder: Path, *, extra: str = "") -> Path:
    (folder / "requirements").mkdir(parents=True)
    shutil.copy(SMALL_LOCKS / "small.txt", folder / "requirements" / "small.txt")
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "wheelhouse-user"\nversion = "1"\n\n'
        "[tool.tierci.wheelhouse]\n"
        'locks = ["requirements/small.txt"]\n'
        'required = ["six", "docopt"]\n' + extra,
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project whose .wheelhouse was built for real; tests copy it before damaging it."""
    project = make_project(tmp_path_factory.mktemp("built"))
    result = tierci(project, "wheelhouse", "build")
    assert result.returncode == 0, result
    assert "built   docopt-0.6.2" in result.output, result
    return project


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(built, copy)
    return copy


def fresh_env(folder: Path) -> Path:
    created = run([sys.executable, "-m", "uv", "venv", "--quiet", str(folder)], folder.parent)
    assert created.returncode == 0, created
    return folder / "bin" / "python"


def wheel(project: Path, prefix: str) -> Path:
    (found,) = (project / ".wheelhouse").glob(f"{prefix}-*.whl")
    return found


def test_build_records_each_wheel_and_where_it_came_from(built: Path) -> None:
    manifest = json.loads((built / ".wheelhouse" / "tierci-wheelhouse.json").read_text())
    origins = {record["name"]: record["origin"] for record in manifest["wheels"].values()}
    assert origins == {"six": "index", "iniconfig": "index", "tomli-w": "index", "docopt": "built"}
    key = tierci(built, "wheelhouse", "key")
    assert key.returncode == 0, key
    assert manifest["key"] == key.output.strip()
    assert key.output.startswith(f"cp{sys.version_info[0]}{sys.version_info[1]}-")


def test_a_second_build_fetches_nothing(project: Path) -> None:
    again = tierci(project, "wheelhouse", "build")
    assert again.returncode == 0, again
    assert "4 pins, 4 already present, 0 to fetch" in again.output


def test_the_source_built_wheel_is_reproducible(project: Path, tmp_path: Path) -> None:
    first = wheel(project, "docopt").read_bytes()
    wheel(project, "docopt").unlink()
    rebuilt = tierci(project, "wheelhouse", "build")
    assert rebuilt.returncode == 0, rebuilt
    assert wheel(project, "docopt").read_bytes() == first  # SOURCE_DATE_EPOCH at work


def test_offline_install_into_a_fresh_env_with_no_index(project: Path, tmp_path: Path) -> None:
    python = fresh_env(tmp_path / "venv")
    installed = tierci(
        project,
        "wheelhouse",
        "install",
        "--python",
        str(python),
        UV_CACHE_DIR=str(tmp_path / "empty-uv-cache"),
        **NO_INDEX,
    )
    assert installed.returncode == 0, installed
    assert "installed 4 package(s) offline" in installed.output
    # stdout alone: on 3.12+ docopt 0.6.2 compiles with a SyntaxWarning on stderr.
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import six, docopt, tomli_w, iniconfig; print(six.__version__, docopt.__version__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.stdout.strip() == "1.17.0 0.6.2", check


def test_a_removed_wheel_fails_validation_naming_it(project: Path, tmp_path: Path) -> None:
    wheel(project, "tomli_w").unlink()
    validated = tierci(project, "wheelhouse", "validate")
    assert validated.returncode == 6, validated
    assert "tomli-w==1.2.0" in validated.output
    assert "missing tomli-w==1.2.0" in validated.output  # the plain line for logs
    installed = tierci(
        project, "wheelhouse", "install", "--python", str(fresh_env(tmp_path / "v")), **NO_INDEX
    )
    assert installed.returncode == 6, installed
    assert "tomli-w==1.2.0" in installed.output


@pytest.mark.parametrize("prefix", ["six", "docopt"])
def test_an_altered_wheel_is_refused(project: Path, tmp_path: Path, prefix: str) -> None:
    with wheel(project, prefix).open("ab") as handle:
        handle.write(b"\0")
    validated = tierci(project, "wheelhouse", "validate")
    assert validated.returncode == 6, validated
    assert f"hash {prefix}==" in validated.output
    installed = tierci(
        project, "wheelhouse", "install", "--python", str(fresh_env(tmp_path / "v")), **NO_INDEX
    )
    assert installed.returncode == 6, installed
    assert "refusing to install" in installed.output


def test_a_required_package_no_lock_pins_is_reported(project: Path) -> None:
    text = (project / "pyproject.toml").read_text().replace('"docopt"]', '"docopt", "torch"]')
    (project / "pyproject.toml").write_text(text)
    validated = tierci(project, "wheelhouse", "validate")
    assert validated.returncode == 6, validated
    assert "required torch" in validated.output


def test_fallback_is_allowed_only_when_asked_and_logged_by_name(
    project: Path, tmp_path: Path
) -> None:
    wheel(project, "iniconfig").unlink()
    python = fresh_env(tmp_path / "venv")
    installed = tierci(
        project, "wheelhouse", "install", "--python", str(python), "--allow-fallback"
    )
    assert installed.returncode == 0, installed
    assert "FALLBACK to the index for 1 package(s)" in installed.output
    assert "iniconfig==2.3.1" in installed.output
    check = run([str(python), "-c", "import iniconfig, six"], tmp_path)
    assert check.returncode == 0, check


def test_pack_and_unpack_round_trip(project: Path, tmp_path: Path) -> None:
    packed = tierci(project, "wheelhouse", "pack", "--out", str(tmp_path / "out"))
    assert packed.returncode == 0, packed
    archive = Path(packed.output.strip().splitlines()[-1])
    key = tierci(project, "wheelhouse", "key").output.strip()
    assert archive.name == f"wheelhouse-{key}.tar.gz"
    shutil.rmtree(project / ".wheelhouse")
    unpacked = tierci(project, "wheelhouse", "unpack", str(archive))
    assert unpacked.returncode == 0, unpacked
    assert "4 wheels verified" in unpacked.output
    assert tierci(project, "wheelhouse", "validate").returncode == 0


def test_packing_is_reproducible(project: Path, tmp_path: Path) -> None:
    first = tierci(project, "wheelhouse", "pack", "--out", str(tmp_path / "a"))
    time.sleep(1.1)  # gzip headers and tar entries record whole seconds: cross one
    second = tierci(project, "wheelhouse", "pack", "--out", str(tmp_path / "b"))
    a = Path(first.output.strip().splitlines()[-1])
    b = Path(second.output.strip().splitlines()[-1])
    assert a.read_bytes() == b.read_bytes()


@pytest.fixture
def archive(project: Path, tmp_path: Path) -> Path:
    packed = tierci(project, "wheelhouse", "pack", "--out", str(tmp_path / "out"))
    assert packed.returncode == 0, packed
    return Path(packed.output.strip().splitlines()[-1])


def test_a_truncated_archive_is_refused_and_the_wheelhouse_kept(
    project: Path, archive: Path
) -> None:
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    before = sorted(p.name for p in (project / ".wheelhouse").iterdir())
    unpacked = tierci(project, "wheelhouse", "unpack", str(archive))
    assert unpacked.returncode == 6, unpacked
    assert "refused: it is corrupt or truncated" in unpacked.output
    assert sorted(p.name for p in (project / ".wheelhouse").iterdir()) == before


def test_an_archive_with_a_tampered_wheel_is_refused(
    project: Path, archive: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(tampered, "w:gz") as out:
        for member in source:
            extracted = source.extractfile(member)
            assert extracted is not None  # the archive holds only regular files
            data = extracted.read()
            if member.name.startswith("six-"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            out.addfile(member, __import__("io").BytesIO(data))
    unpacked = tierci(project, "wheelhouse", "unpack", str(tampered))
    assert unpacked.returncode == 6, unpacked
    assert "does not match its manifest hash" in unpacked.output


def test_an_archive_for_other_locks_is_refused(project: Path, archive: Path) -> None:
    lock = project / "requirements" / "small.txt"
    lock.write_text(
        lock.read_text().split("iniconfig==")[0] + "six==1.17.0 \\\n"
        "    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n"
    )
    unpacked = tierci(project, "wheelhouse", "unpack", str(archive))
    assert unpacked.returncode == 6, unpacked
    assert "refusing it" in unpacked.output
    anyway = tierci(project, "wheelhouse", "unpack", "--any-key", str(archive))
    assert anyway.returncode == 0, anyway
    assert "2 wheels verified against the locks" in anyway.output
    assert "left out 2 wheel(s) no current lock pins" in anyway.output
    assert sorted(p.name.split("-")[0] for p in (project / ".wheelhouse").glob("*.whl")) == [
        "docopt",
        "six",
    ]


def test_no_wheelhouse_at_all_fails_unless_fallback_then_all_from_the_index(
    project: Path, tmp_path: Path
) -> None:
    shutil.rmtree(project / ".wheelhouse")
    python = fresh_env(tmp_path / "venv")
    refused = tierci(project, "wheelhouse", "install", "--python", str(python))
    assert refused.returncode == 6, refused
    assert "no wheelhouse at" in refused.output
    allowed = tierci(project, "wheelhouse", "install", "--python", str(python), "--allow-fallback")
    assert allowed.returncode == 0, allowed
    assert "FALLBACK to the index for 4 package(s)" in allowed.output
    check = run([str(python), "-c", "import docopt, six, tomli_w, iniconfig"], tmp_path)
    assert check.returncode == 0, check


def test_a_foreign_target_gets_published_wheels_and_no_local_builds(tmp_path: Path) -> None:
    project = make_project(tmp_path / "arm")
    built = tierci(
        project,
        "wheelhouse",
        "build",
        "--python-version",
        "3.12",
        "--platform",
        "manylinux_2_28_aarch64",
    )
    assert built.returncode == 6, built  # docopt has no wheel, and none can be built here
    assert "docopt==0.6.2" in built.output
    assert "no binary wheel for the target" in built.output
    assert len(list((project / ".wheelhouse").glob("*.whl"))) == 3


def mirror(folder: Path, files: list[Path]) -> str:
    """A PEP 503 simple index of ``files`` in ``folder``, as an internal mirror is."""
    for file in files:
        name = re.split(r"-\d", file.name, maxsplit=1)[0].lower().replace("_", "-")
        project = folder / "simple" / name
        project.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, project / file.name)
        links = "".join(
            f'<a href="{path.name}">{path.name}</a>\n' for path in sorted(project.glob("*.*"))
        )
        (project / "index.html").write_text(f"<html><body>\n{links}</body></html>\n", "utf-8")
    return (folder / "simple").as_uri()


def test_the_wheelhouse_comes_from_the_configured_sources_only(tmp_path: Path) -> None:
    """pip's ambient configuration (a find-links folder, an index, a pip.conf) is
    ignored: what a laptop has by accident must not make a build pass that would fail
    on a fresh runner. The configured index here is a local mirror, as a CI machine
    without the internet would have."""
    files = tmp_path / "files"
    fetched = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "-r",
            str(SMALL_LOCKS / "small.txt"),
            "--dest",
            str(files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fetched.returncode == 0, fetched.stderr
    # docopt has only an sdist: building its wheel needs setuptools from the sources too.
    tools = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "setuptools",
            "wheel",
            "--dest",
            str(files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tools.returncode == 0, tools.stderr
    everything = sorted(files.iterdir())
    hidden = next(path for path in everything if path.name.startswith("tomli_w-"))
    index = mirror(tmp_path / "mirror", [path for path in everything if path != hidden])
    # The ambient configuration offers tomli-w, and points everything else nowhere.
    ambient = tmp_path / "ambient"
    ambient.mkdir()
    shutil.copy(hidden, ambient / hidden.name)
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text(f"[global]\nfind-links = {ambient}\n", encoding="utf-8")
    poisoned = {
        "PIP_FIND_LINKS": str(ambient),
        "PIP_CONFIG_FILE": str(pip_conf),
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_NO_INDEX": "1",
        # A mirror this machine names (.ci/run does) would replace the configured one.
        "TIERCI_WHEELHOUSE_PIP_ARGS": "",
    }
    project = make_project(tmp_path / "project", extra=f'pip_args = ["--index-url", "{index}"]\n')

    missing = tierci(project, "wheelhouse", "build", **poisoned)
    assert missing.returncode == 6, missing
    assert "tomli-w==1.2.0" in missing.output
    assert "built   docopt-0.6.2" in missing.output  # with setuptools from the mirror
    assert f"wheel sources: --index-url {index} (pip's own configuration ignored)" in missing.output

    mirror(tmp_path / "mirror", [hidden])  # the configured sources now have it
    built = tierci(project, "wheelhouse", "build", **poisoned)
    assert built.returncode == 0, built
    assert "4 pins covered and hash-checked" in built.output
    # A machine's mirror replaces the configured sources, named in the log.
    elsewhere = tierci(
        project, "wheelhouse", "build", TIERCI_WHEELHOUSE_PIP_ARGS=f"--index-url {index}x"
    )
    assert f"wheel sources: --index-url {index}x" in elsewhere.output
