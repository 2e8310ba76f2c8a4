import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from tierci.artifacts.credentials import IndexUrl, Redactor
from tierci.artifacts.release import (
    PYPI_SIMPLE,
    PYPI_UPLOAD,
    check_tag,
    release_tag,
    simple_index_for,
)
from tierci.errors import ReleaseError


@pytest.mark.parametrize(
    ("upload", "simple"),
    [
        (PYPI_UPLOAD, PYPI_SIMPLE),
        ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/"),
        (
            "https://nexus.example/repository/pypi/legacy",
            "https://nexus.example/repository/pypi/simple/",
        ),
    ],
)
def test_the_index_to_install_back_from(upload: str, simple: str) -> None:
    assert simple_index_for(upload) == simple


@pytest.mark.parametrize("tag", ["v1.2.0", "1.2.0", "v1.2"])
def test_tags_that_name_the_version(tag: str) -> None:
    check_tag(Version("1.2.0"), tag)


@pytest.mark.parametrize(
    ("tag", "expected"), [("v1.2.1", "is not the tag's"), ("latest", "is not a version")]
)
def test_tags_that_do_not(tag: str, expected: str) -> None:
    with pytest.raises(ReleaseError, match=expected):
        check_tag(Version("1.2.0"), tag)


@pytest.fixture
def tagged(tmp_path: Path) -> Path:
    """A repository whose HEAD carries the tag v5.0.0."""
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x",
         "--allow-empty"],
        ["git", "tag", "v5.0.0"],
    ):  # fmt: skip
        subprocess.run(command, cwd=tmp_path, check=True)
    return tmp_path


GITHUB = {"GITHUB_ACTIONS": "true", "CI": "true"}


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {**GITHUB, "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main"},
        {**GITHUB, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF_NAME": "7/merge",
         "GITHUB_REF_TYPE": "branch"},
        {**GITHUB, "GITHUB_REF_NAME": "main"},  # no ref type: never taken as a tag
        {"BRANCH_NAME": "main", "JENKINS_URL": "http://jenkins.invalid/"},
    ],
    ids=["laptop", "github-push", "github-pull-request", "github-no-ref-type", "jenkins-branch"],
)  # fmt: skip
def test_a_branch_or_pull_request_build_takes_the_tag_from_git(
    tagged: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert release_tag(tagged) == "v5.0.0"


@pytest.mark.parametrize(
    "variables",
    [
        {**GITHUB, "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v6.0.0"},
        {"TAG_NAME": "v6.0.0", "BRANCH_NAME": "v6.0.0", "JENKINS_URL": "http://jenkins.invalid/"},
        {"TIERCI_RELEASE_TAG": "v6.0.0"},
    ],
    ids=["github-tag", "jenkins-tag", "tierci-release-tag"],
)
def test_a_tag_build_releases_its_tag(
    tagged: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert release_tag(tagged) == "v6.0.0"
    assert release_tag(tagged, "v6.0.0") == "v6.0.0"


def test_a_given_tag_wins_on_a_branch_and_is_refused_against_the_builds_tag(
    tagged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REF_NAME", "7/merge")
    monkeypatch.setenv("GITHUB_REF_TYPE", "branch")
    assert release_tag(tagged, "v7.0.0") == "v7.0.0"
    monkeypatch.setenv("GITHUB_REF_NAME", "v6.0.0")
    monkeypatch.setenv("GITHUB_REF_TYPE", "tag")
    with pytest.raises(ReleaseError, match=r"--tag 'v7.0.0' is not the tag this CI build is for"):
        release_tag(tagged, "v7.0.0")


def test_no_tag_anywhere_says_how_to_give_one(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    with pytest.raises(ReleaseError, match="no release tag"):
        release_tag(tmp_path)


def test_a_long_secret_is_redacted_even_folded_over_lines() -> None:
    token = "pypi-AgEIcHlwaS5vcmcCJGFhYWFhYWFhLWJiYmItY2NjYy1kZGRkLWVlZWVlZWVlZWVlZQ"
    folded = f"Uploading to https://__token__:{token[:30]}\n  {token[30:]}@upload.pypi.org/"
    redacted = Redactor([token])(folded)
    assert token[:12] not in redacted
    assert token[-12:] not in redacted
    assert "****" in redacted


def test_a_short_password_is_redacted_where_it_stands_as_a_word() -> None:
    redact = Redactor(["pw1"])
    assert redact("password pw1 refused") == "password **** refused"
    assert redact("user:pw1@host") == "user:****@host"
    assert redact("pw12 is another word") == "pw12 is another word"


def test_the_url_encoded_form_of_a_secret_is_redacted_too() -> None:
    assert Redactor(["p@ss:word/1"])("https://u:p%40ss%3Aword%2F1@h/") == "https://u:****@h/"


def test_credentials_leave_the_url_and_win_over_the_environments() -> None:
    index = IndexUrl.parse("https://me:s%40cret@nexus.example:8443/pypi/", password="env")
    assert index.url == "https://nexus.example:8443/pypi/"
    assert (index.username, index.password) == ("me", "s@cret")
    assert index.with_credentials() == "https://me:s%40cret@nexus.example:8443/pypi/"
    assert index.authorization() == {"Authorization": "Basic bWU6c0BjcmV0"}
    plain = IndexUrl.parse("https://pypi.org/simple/", username="u", password="p")
    assert plain.url == "https://pypi.org/simple/"
    assert plain.password == "p"
