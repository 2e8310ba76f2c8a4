"""Releasing: build, check, upload to PyPI or any index, then install it back from there.

Refused before anything is uploaded: a dirty working tree (the release would not be
the commit it names), or a version that is not the tag's (``v1.2.0`` / ``1.2.0``;
the tag comes from ``--tag``, ``GITHUB_REF_NAME``, ``TAG_NAME`` or ``git describe``).
Credentials come from the environment (``TWINE_USERNAME``/``TWINE_PASSWORD``, or a
PyPI token as the password) or twine's keyring, never from arguments, and every line
this module prints has the password redacted. After the upload, the just-uploaded
version is installed from that index into a fresh environment and imported.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tierci._proc import find_uv, run, venv_python_of
from tierci.artifacts.build import Built, build_and_check
from tierci.artifacts.verify import fresh_venv
from tierci.errors import ReleaseError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = [
    "PYPI_SIMPLE",
    "PYPI_UPLOAD",
    "already_released",
    "build_release",
    "check_clean_tree",
    "check_tag",
    "install_back",
    "release",
    "release_tag",
    "simple_index_for",
    "upload",
]

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
PYPI_SIMPLE = "https://pypi.org/simple/"
_TAG_VARIABLES = ("TIERCI_RELEASE_TAG", "GITHUB_REF_NAME", "TAG_NAME")


def check_clean_tree(root: Path) -> None:
    """No uncommitted or untracked (non-ignored) files: the release is the commit."""
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=False
    )
    if status.returncode != 0:
        raise ReleaseError(
            f"{root} is not a git working tree ({status.stderr.strip()})",
            fix="release from a clone of the repository, at the tagged commit",
        )
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    if changed:
        shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")  # noqa: PLR2004
        raise ReleaseError(
            f"the working tree is dirty ({len(changed)} file(s): {shown}); a release must be "
            "exactly its commit",
            fix="commit or stash the changes (or add build outputs to .gitignore)",
        )


def release_tag(root: Path, given: str | None = None) -> str:
    """The tag being released: given, from CI variables, or the tag on HEAD."""
    if given:
        return given
    for variable in _TAG_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    described = subprocess.run(
        ["git", "describe", "--tags", "--exact-match", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if described.returncode != 0 or not described.stdout.strip():
        raise ReleaseError(
            "no release tag: HEAD carries no tag and none was given",
            fix="tag the commit (git tag v1.2.0) or pass --tag v1.2.0",
        )
    return described.stdout.strip()


def check_tag(version: Version, tag: str) -> None:
    try:
        tagged = Version(tag.removeprefix("v"))
    except InvalidVersion:
        raise ReleaseError(
            f"tag {tag!r} is not a version", fix="tag releases as v1.2.0 or 1.2.0"
        ) from None
    if tagged != version:
        raise ReleaseError(
            f"the built version {version} is not the tag's {tag!r}",
            fix="bump [project].version to match the tag, or tag the commit that has it",
        )


def build_release(root: Path, out: Path) -> Built:
    """sdist + wheel into an empty ``out``, checked with ``twine check --strict``."""
    return build_and_check(root, out, python=sys.executable, run=_run, error=ReleaseError)


def upload(release: Built, repository_url: str, *, log: Callable[[str], object]) -> None:
    """twine upload; credentials from the environment or keyring, redacted in output."""
    command = [
        sys.executable,
        "-m",
        "twine",
        "--no-color",
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        repository_url,
        *(str(f) for f in release.files),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    output = _redacted(completed.stdout + completed.stderr)
    for line in output.splitlines():
        log(line)
    if completed.returncode == 0:
        return
    if re.search(r"\b(409|400)\b.*(exist|Conflict)|already exists", output, re.IGNORECASE):
        raise ReleaseError(
            f"{release.name} {release.version} is already on {repository_url}: an index "
            "never takes the same version twice",
            fix="bump the version (and tag) and release again",
        )
    if re.search(r"\b(401|403)\b|Forbidden|Unauthorized|Invalid or non-existent auth", output):
        raise ReleaseError(
            f"{repository_url} refused the credentials",
            fix="set TWINE_USERNAME and TWINE_PASSWORD (for PyPI: __token__ and an API "
            "token), or use trusted publishing from CI",
        )
    raise ReleaseError(
        f"twine upload to {repository_url} failed (exit {completed.returncode})",
        fix="read twine's message above",
    )


def _redacted(text: str) -> str:
    secret = os.environ.get("TWINE_PASSWORD", "")
    return text.replace(secret, "****") if len(secret) >= 4 else text  # noqa: PLR2004


def already_released(release: Built, index_url: str) -> bool:
    """Whether the index already lists one of these files (when it can tell at all).

    Indexes answer a re-upload differently (PyPI: "400 File already exists",
    pypiserver: a bare "400 Bad Request"), so the release asks first.
    """
    url = f"{index_url.rstrip('/')}/{canonicalize_name(release.name)}/"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - http(s) index
            page = response.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return False  # not listed, or the index will not say: the upload decides
    return any(path.name in page for path in release.files)


def simple_index_for(repository_url: str) -> str:
    """The index to install from, for an upload URL (PyPI, TestPyPI, pypiserver)."""
    url = repository_url.rstrip("/")
    for upload_host, simple in (
        ("https://upload.pypi.org", PYPI_SIMPLE),
        ("https://test.pypi.org", "https://test.pypi.org/simple/"),
    ):
        if url.startswith(upload_host):
            return simple
    return re.sub(r"/legacy$", "", url) + "/simple/"


def install_back(
    release: Built,
    *,
    index_url: str,
    import_name: str,
    dependency_index: str = PYPI_SIMPLE,
    python: str = sys.executable,
) -> str:
    """Install ``name==version`` from ``index_url`` into a fresh env; import it; its file.

    The release itself must come from ``index_url`` (uv's first-index strategy, that
    index first); its dependencies may come from ``dependency_index``.
    """
    uv = find_uv()
    with fresh_venv(python) as venv:
        venv_python = str(venv_python_of(venv))
        pin = f"{release.name}=={release.version}"
        indexes = ["--index-strategy", "first-index", "--index-url", dependency_index]
        run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                venv_python,
                "--no-cache",
                *indexes,
                "--extra-index-url",
                index_url,
                pin,
            ],
            what=f"installing {pin} back from {index_url}",
            fix="check that the upload landed and that the index serves it",
            error=ReleaseError,
            cwd=venv.parent,
            capture=True,
            redact=_redacted,
        )
        imported = run(
            [venv_python, "-I", "-c", f"import {import_name}; print({import_name}.__file__)"],
            what=f"`import {import_name}` of {pin}, installed from {index_url},",
            fix="the uploaded distribution is broken: yank it and release a fixed version",
            error=ReleaseError,
            cwd=venv.parent,
            capture=True,
        )
        return imported.stdout.strip()


def release(
    root: Path,
    *,
    repository_url: str = PYPI_UPLOAD,
    tag: str | None = None,
    index_url: str | None = None,
    import_name: str | None = None,
    dependency_index: str = PYPI_SIMPLE,
    check_only: bool = False,
    log: Callable[[str], object] = print,
) -> tuple[Built, str]:
    """Refuse, build, check, upload, install back and import: the whole release.

    ``check_only`` stops after the checks and the build (``dist/release/``), for CI
    that publishes with trusted publishing instead of a password.
    """
    check_clean_tree(root)
    the_tag = release_tag(root, tag)
    built = build_release(root, root / "dist" / "release")
    check_tag(built.version, the_tag)
    if check_only:
        log(
            f"release {built.name} {built.version} (tag {the_tag}) checked and built in "
            f"{built.files[0].parent}; not uploaded (--check-only)"
        )
        return built, ""
    log(f"release {built.name} {built.version} (tag {the_tag}) to {repository_url}")
    index = index_url or simple_index_for(repository_url)
    if already_released(built, index):
        raise ReleaseError(
            f"{built.name} {built.version} is already on {index}: an index never takes the "
            "same version twice",
            fix="bump the version (and tag) and release again",
        )
    upload(built, repository_url, log=log)
    location = install_back(
        built,
        index_url=index,
        import_name=import_name or built.name.replace("-", "_"),
        dependency_index=dependency_index,
    )
    log(f"installed {built.name}=={built.version} back from {index}: imported from {location}")
    return built, location


def _run(command: Sequence[str]) -> None:
    run(
        command,
        what=" ".join(command[1:4]),
        fix="read the tool's output above; nothing was uploaded",
        error=ReleaseError,
    )
