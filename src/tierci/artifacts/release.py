"""Releasing: build, check, upload to PyPI or any index, then install it back from there.

Refused before anything is uploaded: a dirty working tree (the release would not be
the commit it names), or a version that is not the tag's (``v1.2.0`` / ``1.2.0``;
the tag comes from ``--tag``, ``TIERCI_RELEASE_TAG``, the tag a CI build is for
(``GITHUB_REF_NAME`` when ``GITHUB_REF_TYPE=tag``, Jenkins' ``TAG_NAME``) or ``git describe``).
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
from tierci.artifacts.credentials import IndexUrl, Redactor
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
    "ci_tag",
    "install_back",
    "release",
    "release_tag",
    "simple_index_for",
    "upload",
]

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
PYPI_SIMPLE = "https://pypi.org/simple/"


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


def ci_tag() -> str:
    """The tag a CI build is for (empty when it builds a branch or a pull request)."""
    if os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("GITHUB_REF_TYPE"):
        if os.environ.get("GITHUB_REF_TYPE") == "tag":
            return os.environ.get("GITHUB_REF_NAME", "").strip()
        return ""
    return os.environ.get("TAG_NAME", "").strip()


def release_tag(root: Path, given: str | None = None) -> str:
    """The tag being released: ``--tag``, else ``TIERCI_RELEASE_TAG``, else the tag CI
    is building, else the tag on HEAD.

    CI names a tag only in a tag build: GitHub's ``GITHUB_REF_NAME`` is a branch
    (``main``) or a pull request's merge ref (``7/merge``) unless ``GITHUB_REF_TYPE`` is
    ``tag``; Jenkins sets ``TAG_NAME`` only when it builds a tag. A given tag that is not
    the one CI is building is refused: one of them is a mistake.
    """
    building = ci_tag()
    if given:
        if building and building != given:
            raise ReleaseError(
                f"--tag {given!r} is not the tag this CI build is for ({building!r})",
                fix="drop --tag (the build's tag is used), or release from that tag's build",
            )
        return given
    explicit = os.environ.get("TIERCI_RELEASE_TAG", "").strip()
    if explicit or building:
        return explicit or building
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


def upload(
    release: Built, repository: IndexUrl, *, redact: Redactor, log: Callable[[str], object]
) -> None:
    """twine upload to ``repository``; credentials through twine's environment only."""
    command = [
        sys.executable,
        "-m",
        "twine",
        "--no-color",
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        repository.url,
        *(str(f) for f in release.files),
    ]
    environment = {**os.environ, "COLUMNS": str(_UNFOLDED)}  # one line per message
    if repository.username:
        environment["TWINE_USERNAME"] = repository.username
    if repository.password:
        environment["TWINE_PASSWORD"] = repository.password
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, env=environment
    )
    output = redact(completed.stdout + completed.stderr)
    for line in output.splitlines():
        log(line)
    if completed.returncode == 0:
        return
    if _CONFLICT.search(output):
        raise _already_on(release, repository.url)
    if _REFUSED.search(output):
        raise ReleaseError(
            f"{repository.url} refused the credentials",
            fix="set TWINE_USERNAME and TWINE_PASSWORD (for PyPI: __token__ and an API "
            "token), or use trusted publishing from CI",
        )
    if _BAD_REQUEST.search(output) and already_released(release, _index_of(repository)):
        # An index that answers a re-upload with a bare 400 (pypiserver) and lists its
        # files only to those with credentials: asked again, with them.
        raise _already_on(release, repository.url)
    raise ReleaseError(
        f"twine upload to {repository.url} failed (exit {completed.returncode})",
        fix="read twine's message above",
    )


#: Wide enough that twine (rich) folds no line: a folded secret is harder to redact.
_UNFOLDED = 100_000
_CONFLICT = re.compile(r"\b409\b|\b400\b.*exist|already exists", re.IGNORECASE)
_REFUSED = re.compile(r"\b(401|403)\b|Forbidden|Unauthorized|Invalid or non-existent auth")
_BAD_REQUEST = re.compile(r"\b400\b")


def _already_on(release: Built, where: str) -> ReleaseError:
    return ReleaseError(
        f"{release.name} {release.version} is already on {where}: an index never takes "
        "the same version twice",
        fix="bump the version (and tag) and release again",
    )


def _index_of(repository: IndexUrl) -> IndexUrl:
    return repository.sharing_credentials(simple_index_for(repository.url))


def already_released(release: Built, index: IndexUrl) -> bool:
    """Whether the index already lists one of these files (when it can tell at all).

    Indexes answer a re-upload differently (PyPI: "400 File already exists",
    pypiserver: a bare "400 Bad Request"), so the release asks first, with the
    credentials where the index wants them for reading too.
    """
    url = f"{index.url.rstrip('/')}/{canonicalize_name(release.name)}/"
    request = urllib.request.Request(url, headers=index.authorization())  # noqa: S310 - http(s)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - as above
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
    index: IndexUrl,
    import_name: str,
    redact: Redactor,
    dependency_index: str = PYPI_SIMPLE,
    python: str = sys.executable,
) -> str:
    """Install ``name==version`` from ``index`` into a fresh env; import it; its file.

    The release itself must come from ``index`` (uv's first-index strategy, that index
    first; its credentials through uv's environment); its dependencies may come from
    ``dependency_index``.
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
                pin,
            ],
            what=f"installing {pin} back from {index.url}",
            fix="check that the upload landed and that the index serves it",
            error=ReleaseError,
            cwd=venv.parent,
            env={**os.environ, "UV_EXTRA_INDEX_URL": index.with_credentials()},
            capture=True,
            redact=redact,
        )
        imported = run(
            [venv_python, "-I", "-c", f"import {import_name}; print({import_name}.__file__)"],
            what=f"`import {import_name}` of {pin}, installed from {index.url},",
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
    repository = IndexUrl.parse(
        repository_url,
        username=os.environ.get("TWINE_USERNAME", ""),
        password=os.environ.get("TWINE_PASSWORD", ""),
    )
    index = IndexUrl.parse(index_url) if index_url else _index_of(repository)
    redact = Redactor([repository.password, index.password])

    def say(line: str) -> None:
        log(redact(line))

    say(f"release {built.name} {built.version} (tag {the_tag}) to {repository.url}")
    if already_released(built, index):
        raise _already_on(built, index.url)
    upload(built, repository, redact=redact, log=say)
    location = install_back(
        built,
        index=index,
        import_name=import_name or built.name.replace("-", "_"),
        redact=redact,
        dependency_index=dependency_index,
    )
    say(f"installed {built.name}=={built.version} back from {index.url}: imported from {location}")
    return built, location


def _run(command: Sequence[str]) -> None:
    run(
        command,
        what=" ".join(command[1:4]),
        fix="read the tool's output above; nothing was uploaded",
        error=ReleaseError,
    )
