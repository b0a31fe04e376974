"""One way to get every data file: a ready copy, the cache, or a download.

Every file the book uses is listed in :data:`FILES` with its public URL(s)
and its SHA-256. :func:`fetch` looks for it, in order,

1. in the folder named by the environment variable ``CFS_DATA_DIR`` (a folder
   of ready copies laid out like ``mnist/t10k-images-idx3-ubyte.gz``,
   ``polblogs/polblogs.gml``; CI points it at ``../shared/data``);
2. in the per-user cache, ``pooch.os_cache("clustering-from-scratch")``, or
   the folder named by ``CFS_CACHE_DIR``;
3. on the internet, downloaded into the cache with pooch.

A file is used only if its SHA-256 matches, so a file that is present and
right never causes network traffic, and a wrong file is never trusted.
pooch downloads into a temporary file next to the target and moves it into
place only after the hash matched, so an interrupted download leaves nothing
that a later run would use.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FILES",
    "DataNotFoundError",
    "HashMismatchError",
    "UnsafeArchiveError",
    "CorruptDataError",
    "cache_dir",
    "data_dir",
    "fetch",
    "sha256sum",
]

DATA_DIR_ENV = "CFS_DATA_DIR"
CACHE_DIR_ENV = "CFS_CACHE_DIR"
_PROJECT = "clustering-from-scratch"


class DataNotFoundError(FileNotFoundError):
    """A data file is neither present nor downloadable."""


class HashMismatchError(ValueError):
    """A data file does not have the SHA-256 that the registry records."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside its destination folder."""


class CorruptDataError(ValueError):
    """A data file has the right name but cannot be parsed."""


@dataclass(frozen=True)
class Remote:
    """Where one file comes from.

    Attributes
    ----------
    name : str
        Relative POSIX path, the same in ``CFS_DATA_DIR`` and in the cache.
    urls : tuple of str
        Public URLs, tried in order (mirrors).
    sha256 : str
        SHA-256 of the file itself (for an archived file: of the extracted
        member, because mirrors repackage archives).
    size : int or None
        Size in bytes, for the messages only.
    member : str or None
        If set, the URLs point at a zip archive and this is the member to
        extract.
    """

    name: str
    urls: tuple
    sha256: str
    size: int | None = None
    member: str | None = None


_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


def _mnist(fname, sha256, size):
    return Remote(
        f"mnist/{fname}", tuple(m + fname for m in _MNIST_MIRRORS), sha256, size
    )


FILES = {
    r.name: r
    for r in [
        _mnist(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1_648_877,
        ),
        _mnist(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4_542,
        ),
        _mnist(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9_912_422,
        ),
        _mnist(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28_881,
        ),
        Remote(
            "polblogs/polblogs.gml",
            (
                "https://websites.umich.edu/~mejn/netdata/polblogs.zip",
                "https://web.archive.org/web/20240730122800id_/"
                "https://public.websites.umich.edu/~mejn/netdata/polblogs.zip",
            ),
            "bd83e3dd2397a57d2252cc212524c21fee6708663136898d4ace523224bdc632",
            977_839,
            member="polblogs.gml",
        ),
    ]
}


def data_dir():
    """The folder of ready copies named by ``CFS_DATA_DIR``, or None."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir():
    """The download cache: ``CFS_CACHE_DIR`` or the per-user cache folder.

    Returns
    -------
    path : pathlib.Path
        ``$CFS_CACHE_DIR`` if set, else
        ``pooch.os_cache("clustering-from-scratch")`` (for example
        ``~/.cache/clustering-from-scratch`` on Linux).
    """
    value = os.environ.get(CACHE_DIR_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache(_PROJECT)).expanduser()


def sha256sum(path):
    """SHA-256 of a file as a hex string, read in 1 MiB blocks.

    Not memoised: a file rewritten within one clock tick keeps its size and
    mtime, and a stale digest would let a wrong file through.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def downloader(url):
    """The pooch downloader for ``url``: None, so pooch picks HTTP/FTP from the URL.

    A hook: the tests replace it with one that serves local bytes.
    """
    return None


def fetch(name):
    """Path to a verified local copy of a registered data file.

    Parameters
    ----------
    name : str
        A key of :data:`FILES`, such as ``"mnist/t10k-images-idx3-ubyte.gz"``
        or ``"polblogs/polblogs.gml"``.

    Returns
    -------
    path : pathlib.Path
        A file whose SHA-256 matches the registry: ``$CFS_DATA_DIR/<name>`` if
        that exists, else ``<cache>/<name>``, downloaded first if needed.

    Raises
    ------
    HashMismatchError
        The copy in ``CFS_DATA_DIR`` or the downloaded file has the wrong hash.
    DataNotFoundError
        There is no copy and no download succeeded; the message names the
        URLs and the folders where a copy can be put.
    """
    if name not in FILES:
        raise ValueError(
            f"name={name!r} is not a registered data file; "
            f"choose one of {sorted(FILES)}"
        )
    remote = FILES[name]

    ready = data_dir()
    if ready is not None and (ready / name).is_file():
        path = ready / name
        _check_hash(path, remote, where=f"the {DATA_DIR_ENV} folder")
        return path  # a ready copy is never modified or deleted

    target = cache_dir() / name
    if target.is_file():
        found = sha256sum(target)
        if found == remote.sha256:
            return target
        # Keep it for inspection, but under a name that nothing trusts.
        aside = target.with_name(target.name + ".corrupt")
        os.replace(target, aside)
        warnings.warn(
            f"cached {name} at {target} had SHA-256 {found}, expected "
            f"{remote.sha256}; moved it to {aside} and downloading again",
            stacklevel=2,
        )
    return _download(remote, target)


def _check_hash(path, remote, where):
    found = sha256sum(path)
    if found != remote.sha256:
        raise HashMismatchError(
            f"{remote.name}: the file {path} (in {where}) has SHA-256 {found}, "
            f"expected {remote.sha256}. It is not used; replace it with a "
            f"fresh copy from {remote.urls[0]}, or delete it to download one."
        )


def _download(remote, target):
    import pooch
    import requests

    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in remote.urls:
        try:
            if remote.member is None:
                pooch.retrieve(
                    url,
                    known_hash=f"sha256:{remote.sha256}",
                    fname=target.name,
                    path=target.parent,
                    downloader=downloader(url),
                )
                return target
            # Mirrors repackage the archive, so its own hash is not pinned;
            # the extracted member is checked instead.
            archive = Path(
                pooch.retrieve(
                    url,
                    known_hash=None,
                    fname=target.name + ".zip",
                    path=target.parent,
                    downloader=downloader(url),
                )
            )
            try:
                extract_member(archive, remote.member, target)
                _check_hash(target, remote, where=f"archive {url}")
            except (HashMismatchError, UnsafeArchiveError, CorruptDataError):
                target.unlink(missing_ok=True)
                archive.unlink(missing_ok=True)  # so a next run downloads it
                raise
            return target
        except ValueError as exc:
            if "hash" in str(exc) and not isinstance(exc, HashMismatchError):
                # pooch's own message; it already deleted the temporary file.
                raise HashMismatchError(
                    f"{remote.name}: the file downloaded from {url} does not "
                    f"have SHA-256 {remote.sha256} and was not kept "
                    f"(pooch: {exc})"
                ) from exc
            raise
        except (requests.exceptions.RequestException, OSError) as exc:
            errors.append(f"{url}: {type(exc).__name__}: {exc}")

    ready = data_dir()
    layout = (
        f"{ready / remote.name} (CFS_DATA_DIR={ready})"
        if ready
        else f"$CFS_DATA_DIR/{remote.name} (CFS_DATA_DIR is not set)"
    )
    raise DataNotFoundError(
        f"{remote.name} is not available: no local copy, and the download "
        f"failed ({'; '.join(errors)}). Download it yourself from "
        f"{remote.urls[0]}"
        + (f" (extract {remote.member!r} from the zip)" if remote.member else "")
        + f" and put it at {layout} or at {target} (the cache; set "
        f"CFS_CACHE_DIR to move it). Expected SHA-256: {remote.sha256}."
    )


def _safe_member_name(name):
    """True if a zip member name stays inside the folder it is extracted to."""
    if not name or "\\" in name or name.startswith("/") or ":" in name:
        return False
    parts = posixpath.normpath(name).split("/")
    return ".." not in name.split("/") and parts[0] not in ("", "..")


def extract_member(archive, member, target):
    """Extract one member of a zip archive to ``target``, safely.

    The destination is ``target``, chosen by the caller, never a path taken
    from the archive, so a member such as ``../evil`` cannot escape. The member
    is found by its base name; unsafe names are refused rather than skipped.
    The data go to a temporary file next to ``target`` that is renamed into
    place only when complete.

    Parameters
    ----------
    archive : path-like
        The zip file.
    member : str
        Base name of the member to extract, e.g. ``"polblogs.gml"``.
    target : path-like
        Where the member's bytes go.

    Returns
    -------
    target : pathlib.Path
    """
    target = Path(target)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptDataError(
            f"{archive} is not a readable zip archive ({exc}); delete it and try again"
        ) from exc
    with zf:
        matches = [
            i
            for i in zf.infolist()
            if not i.is_dir()
            and posixpath.basename(i.filename.replace("\\", "/")) == member
        ]
        if not matches:
            raise CorruptDataError(
                f"archive {archive} has no member named {member!r}; "
                f"it holds {zf.namelist()}"
            )
        info = matches[0]
        if not _safe_member_name(info.filename):
            raise UnsafeArchiveError(
                f"archive {archive}: member {info.filename!r} points outside "
                f"the extraction folder; refusing to extract it"
            )
        fd, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=target.name, suffix=".part"
        )
        try:
            with os.fdopen(fd, "wb") as out, zf.open(info) as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    out.write(block)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return target
