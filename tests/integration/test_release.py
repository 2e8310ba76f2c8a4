"""Releases against a real package index: pypiserver on 127.0.0.1 with authentication.

A tiny real project is built, checked, uploaded with twine, installed back from the
index into a fresh environment and imported. Re-uploading the same version, a wrong
password, a dirty tree and a version that is not the tag's are each refused clearly,
and the password never appears in the output.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():  # passlib imports the stdlib's deprecated `crypt`
    warnings.simplefilter("ignore", DeprecationWarning)
    # No types-passlib in the lint lock: passlib is untyped here.
    from passlib.apache import HtpasswdFile

from tests.support import Ran, commit_all, tierci

USER, PASSWORD = "releaser", "pa55-word-for-tests-only"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_index(folder: Path, authenticate: str) -> Iterator[str]:
    """pypiserver on 127.0.0.1 with one user; ``authenticate`` names what needs it."""
    (folder / "packages").mkdir()
    htpasswd = HtpasswdFile(str(folder / "htpasswd"), new=True, default_scheme="apr_md5_crypt")
    htpasswd.set_password(USER, PASSWORD)
    htpasswd.save()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--passwords",
            str(folder / "htpasswd"),
            "--authenticate",
            authenticate,
            "--disable-fallback",
            str(folder / "packages"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            break
        except urllib.error.HTTPError:
            break  # it answers (401 where the front page needs credentials)
        except OSError:
            assert server.poll() is None, "pypiserver exited"
            assert time.monotonic() < deadline, "pypiserver did not answer"
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pypiserver: uploads need the password; listing and downloads are open."""
    yield from serve_index(tmp_path_factory.mktemp("index"), "update")


def make_project(folder: Path, version: str) -> Path:
    package = folder / "src" / "tierci_release_probe"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        f'"""A probe released by tierci\'s tests."""\n\n__version__ = "{version}"\n'
    )
    (folder / "README.md").write_text("# tierci-release-probe\n\nReleased by tierci's tests.\n")
    (folder / ".gitignore").write_text("dist/\n")
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "tierci-release-probe"\nversion = "{version}"\n'
        'description = "A probe released by tierci\'s tests"\nreadme = "README.md"\n'
        'requires-python = ">=3.11"\n'
    )
    commit_all(folder)
    return folder


def project_page(index: str) -> str:
    """The probe's page on the index: its files ('' while nothing was uploaded)."""
    try:
        with urllib.request.urlopen(index + "simple/tierci-release-probe/") as page:  # noqa: S310
            body: bytes = page.read()
            return body.decode()
    except urllib.error.HTTPError as exc:
        if exc.code != 404:  # anything but "not there yet" is the index failing
            raise
        return ""


def release(project: Path, index: str, *args: str, password: str = PASSWORD) -> Ran:
    return tierci(
        project,
        "release",
        "--repository-url",
        index,
        *args,
        TWINE_USERNAME=USER,
        TWINE_PASSWORD=password,
    )


def test_release_uploads_installs_back_and_refuses_the_same_version_twice(
    index: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "probe", "1.2.0")
    first = release(project, index, "--tag", "v1.2.0")
    assert first.returncode == 0, first
    assert "installed tierci-release-probe==1.2.0 back from" in first.output
    assert "/site-packages/tierci_release_probe/__init__.py" in first.output
    assert PASSWORD not in first.output
    listing = urllib.request.urlopen(index + "simple/tierci-release-probe/").read().decode()  # noqa: S310
    assert "tierci_release_probe-1.2.0-py3-none-any.whl" in listing
    again = release(project, index, "--tag", "v1.2.0")
    assert again.returncode == 9, again
    assert "tierci-release-probe 1.2.0 is already on" in again.output, again.output
    assert "bump the version" in again.output
    assert PASSWORD not in again.output


def test_a_wrong_password_is_refused_and_not_printed(index: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "probe", "2.0.0")
    wrong = "wrong-pa55word-xyz"
    refused = release(project, index, "--tag", "v2.0.0", password=wrong)
    assert refused.returncode == 9, refused
    assert "refused the credentials" in refused.output
    assert wrong not in refused.output


def test_a_dirty_tree_is_refused_before_anything_is_built(index: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "probe", "3.0.0")
    (project / "stray.txt").write_text("not committed\n")
    refused = release(project, index, "--tag", "v3.0.0")
    assert refused.returncode == 9, refused
    assert "the working tree is dirty (1 file(s): stray.txt)" in refused.output
    assert not (project / "dist").exists()


def test_a_version_that_is_not_the_tag_is_refused_before_upload(index: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "probe", "4.0.0")
    refused = release(project, index, "--tag", "v4.0.1")
    assert refused.returncode == 9, refused
    assert "the built version 4.0.0 is not the tag's 'v4.0.1'" in refused.output
    assert "4.0.0" not in project_page(index)


def test_the_tag_comes_from_git_when_not_given(index: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "probe", "5.0.0")
    subprocess.run(["git", "tag", "v5.0.0"], cwd=project, check=True)
    released = release(project, index)
    assert released.returncode == 0, released
    assert "(tag v5.0.0)" in released.output
    shutil.rmtree(project / "dist")


def test_check_only_builds_and_checks_but_uploads_nothing(index: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "probe", "6.0.0")
    checked = release(project, index, "--tag", "v6.0.0", "--check-only")
    assert checked.returncode == 0, checked
    assert "not uploaded (--check-only)" in checked.output
    assert sorted(p.name for p in (project / "dist" / "release").iterdir()) == [
        "tierci_release_probe-6.0.0-py3-none-any.whl",
        "tierci_release_probe-6.0.0.tar.gz",
    ]
    assert "6.0.0" not in project_page(index)
