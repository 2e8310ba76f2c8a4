"""Credentials are never printed, and a private index works end to end: a real
pypiserver on 127.0.0.1 that wants the password for uploads, listings and downloads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.integration.test_release import PASSWORD, USER, make_project, serve_index
from tests.support import Ran, tierci


@pytest.fixture(scope="module")
def private_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_index(tmp_path_factory.mktemp("private"), "update,download,list")


def with_credentials(url: str, user: str, password: str) -> str:
    return url.replace("http://", f"http://{quote(user, safe='')}:{quote(password, safe='')}@")


def release(project: Path, url: str, *args: str, **env: str) -> Ran:
    # Narrow columns: a tool that folds its lines would fold a long secret too.
    return tierci(project, "release", "--repository-url", url, *args, COLUMNS="40", **env)


def leaked(output: str, secret: str) -> list[str]:
    """Pieces of ``secret`` (12 characters or more, or all of it) found in ``output``."""
    width = min(12, len(secret))
    pieces = {secret[i : i + width] for i in range(len(secret) - width + 1)}
    flat = re.sub(r"\s+", "", output)
    return sorted(piece for piece in pieces if piece in output or piece in flat)


def test_credentials_in_the_url_reach_a_private_index_and_are_never_printed(
    private_index: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "probe", "1.0.0")
    url = with_credentials(private_index, USER, PASSWORD)
    released = release(project, url, "--tag", "v1.0.0")
    assert released.returncode == 0, released
    # Uploaded, listed and downloaded with the password: installed back and imported.
    assert "installed tierci-release-probe==1.0.0 back from" in released.output
    assert leaked(released.output, PASSWORD) == []
    assert quote(PASSWORD, safe="") not in released.output
    assert private_index in released.output  # the bare URL is what is shown


def test_a_re_upload_answered_with_a_bare_400_is_already_on_the_index(
    private_index: str, tmp_path: Path
) -> None:
    """pypiserver answers a second upload with a bodiless 400, and lists its files
    only to those with credentials: the release asks again, with them."""
    project = make_project(tmp_path / "probe", "2.0.0")
    first = release(
        project, private_index, "--tag", "v2.0.0", TWINE_USERNAME=USER, TWINE_PASSWORD=PASSWORD
    )
    assert first.returncode == 0, first
    again = release(
        project, private_index, "--tag", "v2.0.0", TWINE_USERNAME=USER, TWINE_PASSWORD=PASSWORD
    )
    assert again.returncode == 9, again
    assert "tierci-release-probe 2.0.0 is already on" in again.output
    assert leaked(again.output, PASSWORD) == []


def test_a_long_token_is_not_printed_even_where_lines_fold(
    private_index: str, tmp_path: Path
) -> None:
    token = "pypi-" + "AgEIcHlwaS5vcmcCJGFhYWFhYWFhLWJiYmItY2NjYy1kZGRkLWVlZWVlZWVl" * 3
    project = make_project(tmp_path / "probe", "3.0.0")
    refused = release(
        project, with_credentials(private_index, "__token__", token), "--tag", "v3.0.0"
    )
    assert refused.returncode == 9, refused
    assert "refused the credentials" in refused.output
    assert leaked(refused.output, token) == []


def test_a_short_password_is_not_printed(private_index: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "probe", "4.0.0")
    refused = release(project, with_credentials(private_index, USER, "pw1"), "--tag", "v4.0.0")
    assert refused.returncode == 9, refused
    assert not re.search(r"(?<![\w-])pw1(?![\w-])", refused.output), refused.output
