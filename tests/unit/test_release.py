import pytest
from packaging.version import Version

from tierci.artifacts.release import (
    PYPI_SIMPLE,
    PYPI_UPLOAD,
    _redacted,
    check_tag,
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


def test_the_password_never_reaches_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINE_PASSWORD", "pypi-AgEIcHlwaS5vcmc")
    assert _redacted("auth pypi-AgEIcHlwaS5vcmc failed") == "auth **** failed"
