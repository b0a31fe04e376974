"""One way to get every data file: a ready copy, the cache, or a download.

Every file the book uses is listed in :data:`FILES` with its public URL(s)
and its SHA-256. :func:`fetch` looks for it, in order,

1. in the folder named by the environment variable ``CFS_DATA_DIR`` (a folder
   of ready copies laid out like ``mnist/t10k-images-idx3-ubyte.gz``,
   ``polblogs/polblogs.gml``; CI points it at ``../shared/data``);
2. in the per-user cache, ``pooch.os_cache("clustering-from-scratch")``, or
   the folder named by ``CFS_CACHE_DIR``;
3. on the internet, downloaded into the cache with pooch, from each mirror in
   turn until one gives the right file.

A file is used only if its SHA-256 matches, so a file that is present and
right never causes network traffic, and a wrong file is never trusted: a
mirror that answers with something else (an HTML page, a broken or unsafe
zip) is reported and the next mirror is tried.

Each download happens in a staging folder of its own next to the target,
``<cache>/<folder>/.partial-<pid>-<random>.<host>/``: pooch writes its
temporary file there, and the file is moved into place only after its hash
matched. A process killed mid-download therefore leaves nothing that a later
run would use, and a later :func:`fetch` removes its staging folder once that
process is gone; two processes that download at once never touch each
other's folders.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import socket
import tempfile
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FILES",
    "CacheDirError",
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


class CacheDirError(DataNotFoundError):
    """A file must be downloaded, but the cache is not a folder that can be written.

    A :class:`DataNotFoundError` (so an ``OSError``), because the file is then
    neither present nor downloadable; the message names ``CFS_CACHE_DIR``.
    """


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
        The copy in ``CFS_DATA_DIR`` has the wrong hash, or no mirror gave the
        right file and one of them gave a file (or a zip member) with the
        wrong hash. The message lists every mirror and what it gave.
    UnsafeArchiveError
        No mirror gave the right file and one of them served a zip whose
        member points outside its folder; it was not extracted.
    CorruptDataError
        No mirror gave the right file and one of them served something that is
        not a zip, a zip without the member, or one whose member is damaged.
    CacheDirError
        The file must be downloaded, but the cache (``CFS_CACHE_DIR``) is not
        a folder, or cannot be written.
    DataNotFoundError
        There is no copy and no mirror answered; the message names the URLs
        and the folders where a copy can be put.

    Warns
    -----
    UserWarning
        A cached file or archive was wrong and is replaced, or a mirror gave
        wrong content before another one gave the right file.
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
    _sweep_staging(target.parent)  # what killed downloads left behind
    if target.is_file():
        found = sha256sum(target)
        if found == remote.sha256:
            return target
        # Keep it for inspection, but under a name that nothing trusts.
        aside = target.with_name(target.name + ".corrupt")
        try:
            os.replace(target, aside)
        except OSError as exc:
            raise _cache_error(remote, target, exc) from exc
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


# What a mirror that answers with the wrong bytes causes; the next mirror is tried.
_WRONG_CONTENT = (HashMismatchError, CorruptDataError, UnsafeArchiveError)


def _download(remote, target):
    import requests

    staging = _staging_folder(remote, target)
    failures = []  # (exception, what went wrong), one per mirror tried
    try:
        if remote.member is not None and _reuse_archive(remote, target, staging):
            return target
        for url in remote.urls:
            try:
                _download_from(url, remote, target, staging)
            except _WRONG_CONTENT as exc:
                failures.append((exc, str(exc)))
            except (requests.exceptions.RequestException, OSError) as exc:
                failures.append((exc, f"{url}: {type(exc).__name__}: {exc}"))
            else:
                wrong = [w for exc, w in failures if isinstance(exc, _WRONG_CONTENT)]
                if wrong:
                    # A broken or hostile mirror is worth fixing in FILES even
                    # when a later one gave the right file.
                    warnings.warn(
                        f"{remote.name}: downloaded from {url}, after mirrors "
                        f"that gave wrong content: {'; '.join(wrong)}",
                        stacklevel=3,
                    )
                return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    last = failures[-1][0] if failures else None
    raise _all_mirrors_failed(remote, target, failures) from last


def _reuse_archive(remote, target, staging):
    """Extract ``target`` from the archive an earlier download kept, if it is right.

    pooch would reuse that archive without a hash to check it by, so a stale
    or damaged one would fail every load; a wrong one is deleted instead, and
    the caller downloads a new one.
    """
    archive = target.with_name(target.name + ".zip")
    if not archive.is_file():
        return False
    try:
        _extract_verified(archive, remote, staging / target.name, archive)
    except _WRONG_CONTENT as exc:
        archive.unlink(missing_ok=True)
        warnings.warn(
            f"{exc}; deleted that cached archive and downloading {remote.name} again",
            stacklevel=4,
        )
        return False
    os.replace(staging / target.name, target)
    return True


def _download_from(url, remote, target, staging):
    """Download ``remote`` from ``url`` through ``staging``, verified, to ``target``.

    Raises one of ``_WRONG_CONTENT`` (whose message starts with ``url``) when
    the mirror answered with the wrong bytes; nothing of them is kept.
    """
    import pooch

    # pooch reuses a file already at its destination, so what the previous
    # mirror left (a wrong archive) must go first.
    for leftover in staging.iterdir():
        leftover.unlink()
    if remote.member is None:
        try:
            staged = pooch.retrieve(
                url,
                known_hash=f"sha256:{remote.sha256}",
                fname=target.name,
                path=staging,
                downloader=downloader(url),
            )
        except ValueError as exc:
            if "hash" not in str(exc):
                raise
            # pooch's own message; it already deleted its temporary file.
            got = re.search(r"but got ([0-9a-fA-F]{64})", str(exc))
            what = f"SHA-256 {got[1]}" if got else f"a wrong SHA-256 (pooch: {exc})"
            raise HashMismatchError(
                f"{url} gave a file with {what}, expected {remote.sha256}"
            ) from exc
        os.replace(staged, target)
        return
    # Mirrors repackage the archive, so its own hash is not pinned; the
    # extracted member is checked instead.
    staged = pooch.retrieve(
        url,
        known_hash=None,
        fname=target.name + ".zip",
        path=staging,
        downloader=downloader(url),
    )
    _extract_verified(staged, remote, staging / target.name, url)
    os.replace(staging / target.name, target)
    # Kept so that a lost or damaged target is extracted again without a download.
    os.replace(staged, target.with_name(target.name + ".zip"))


def _extract_verified(archive, remote, out, source):
    """Extract ``remote.member`` from ``archive`` to ``out`` and check its hash.

    Raises one of ``_WRONG_CONTENT``, naming the archive as ``source`` (its URL
    or its path), when the archive is not a zip, lacks the member, is unsafe,
    or its member is damaged or has the wrong SHA-256; ``out`` is then absent.
    """
    if not zipfile.is_zipfile(archive):
        raise CorruptDataError(f"{source} is not a zip archive: {_describe(archive)}")
    extract_member(archive, remote.member, out, source=source)
    found = sha256sum(out)
    if found != remote.sha256:
        Path(out).unlink()
        raise HashMismatchError(
            f"{source} holds a {remote.member!r} with SHA-256 {found}, expected "
            f"{remote.sha256}"
        )


def _describe(path):
    """What a file that should not be there holds: its size and first bytes."""
    with open(path, "rb") as f:
        head = f.read(64)
    html = head.lstrip().lower().startswith((b"<!doctype html", b"<html"))
    return f"{os.path.getsize(path):,} bytes starting with {head[:32]!r}" + (
        " (an HTML page)" if html else ""
    )


def _all_mirrors_failed(remote, target, failures):
    """The error for a download that no mirror could serve, listing each mirror."""
    listing = "".join(f"\n  - {what}" for _, what in failures)
    message = (
        f"{remote.name} is not available: no local copy, and no mirror gave "
        f"the right file (nothing was kept):{listing}\n" + _advice(remote, target)
    )
    # The most telling class wins: an unsafe archive is a warning sign
    # whatever else happened, and wrong bytes are not a network problem.
    for cls in (UnsafeArchiveError, HashMismatchError, CorruptDataError):
        if any(isinstance(exc, cls) for exc, _ in failures):
            return cls(message)
    return DataNotFoundError(message)


def _advice(remote, target):
    """Where a copy can be put by hand, and the hash it must have."""
    return (
        f"Download it yourself from {remote.urls[0]}"
        + (f" (extract {remote.member!r} from the zip)" if remote.member else "")
        + f" and put it at {_ready_copy(remote)} or at {target} (the cache; set "
        f"{CACHE_DIR_ENV} to move it). Expected SHA-256: {remote.sha256}."
    )


def _ready_copy(remote):
    """Where a ready copy of ``remote`` goes, in words that name CFS_DATA_DIR."""
    ready = data_dir()
    if ready:
        return f"{ready / remote.name} ({DATA_DIR_ENV}={ready})"
    return f"${DATA_DIR_ENV}/{remote.name} ({DATA_DIR_ENV} is not set)"


def _cache_error(remote, target, exc):
    """The error for a cache that cannot take a download: what is wrong, the fix."""
    value = os.environ.get(CACHE_DIR_ENV, "").strip()
    setting = (
        f"{CACHE_DIR_ENV}={value!r}"
        if value
        else f"the default cache {cache_dir()} ({CACHE_DIR_ENV} is not set)"
    )
    folder = target.parent
    blocker = next(
        (p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()),
        None,
    )
    if blocker is not None:
        problem = f"{blocker} is a file, not a folder"
    else:
        problem = (
            f"{exc.filename or folder} cannot be written "
            f"({type(exc).__name__}: {exc.strerror or exc})"
        )
    return CacheDirError(
        f"{remote.name} must be downloaded into the cache, but {setting} cannot "
        f"take it: {problem}. Set {CACHE_DIR_ENV} to a folder you can write to, "
        f"or put a ready copy at {_ready_copy(remote)}. Expected SHA-256: "
        f"{remote.sha256}."
    )


# ------------------------------------------------------------- staging folders

_STAGING = ".partial-"
# A download whose owner cannot be asked (on another machine sharing the cache,
# or on Windows) is over once nothing in its folder changed for a day: the
# largest file is 10 MB, and a live download writes to its file all the time.
_STAGING_MAX_AGE_S = 24 * 3600


def _host():
    # Part of the folder's name because a pid means something only on its own
    # machine, and a cache can be shared by several (a home on NFS).
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"


def _staging_folder(remote, target):
    """A new, private staging folder next to ``target``; CacheDirError if none."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(
            tempfile.mkdtemp(
                prefix=f"{_STAGING}{os.getpid()}-",
                suffix=f".{_host()}",
                dir=target.parent,
            )
        )
    except OSError as exc:
        raise _cache_error(remote, target, exc) from exc


def _staging_owner(name):
    """(pid, host) from a staging folder's name, or None if it is not one.

    A name without a host (``.partial-<pid>``) counts as this machine's.
    """
    pid, _, rest = name[len(_STAGING) :].partition("-")
    if not (name.startswith(_STAGING) and pid.isascii() and pid.isdigit()):
        return None
    return int(pid), rest.partition(".")[2] or _host()


def _alive(pid):
    """True if process ``pid`` runs on this machine; None if that cannot be told."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False  # no process has it (and 0 would ask about our own group)
    if os.name == "nt":
        return None  # there signal 0 is CTRL_C_EVENT: os.kill would interrupt it
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by another user
    except OverflowError:
        return False  # larger than any pid
    except OSError:
        return None
    return True


def _last_change(folder):
    """The latest modification time of ``folder`` and of what it holds."""
    times = [os.stat(folder).st_mtime]
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                times.append(entry.stat(follow_symlinks=False).st_mtime)
            except OSError:
                pass  # removed meanwhile
    return max(times)


def _sweep_staging(folder):
    """Remove the staging folders in ``folder`` whose download is over.

    A folder is over when its process, on this machine, is gone, or when its
    owner cannot be asked and it was not touched for ``_STAGING_MAX_AGE_S``.
    A live download's folder is never touched, so several processes can
    download into one cache at once.
    """
    try:
        with os.scandir(folder) as entries:
            candidates = [
                (entry.path, _staging_owner(entry.name))
                for entry in entries
                if entry.name.startswith(_STAGING)
                and entry.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return  # no folder yet, or not a folder: fetch says so if it matters
    for path, owner in candidates:
        if owner is None:
            continue  # not a name we make
        pid, host = owner
        alive = _alive(pid) if host == _host() else None
        try:
            if alive is None:
                alive = time.time() - _last_change(path) < _STAGING_MAX_AGE_S
        except OSError:
            continue  # removed meanwhile, by another sweep
        if not alive:
            shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ archives


def _safe_member_name(name):
    """True if a zip member name stays inside the folder it is extracted to."""
    if not name or "\\" in name or name.startswith("/") or ":" in name:
        return False
    parts = posixpath.normpath(name).split("/")
    return ".." not in name.split("/") and parts[0] not in ("", "..")


def extract_member(archive, member, target, *, source=None):
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
    source : str, default=None
        How the messages name the archive, for example the URL it came from;
        None names it by its path.

    Returns
    -------
    target : pathlib.Path

    Raises
    ------
    CorruptDataError
        The archive is not a readable zip, lacks the member, or the member's
        data are damaged.
    UnsafeArchiveError
        The member's name points outside the extraction folder.
    """
    target = Path(target)
    name = archive if source is None else source
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        advice = "; delete it and try again" if source is None else ""
        raise CorruptDataError(
            f"{name} is not a readable zip archive ({exc}){advice}"
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
                f"archive {name} has no member named {member!r}; "
                f"it holds {zf.namelist()}"
            )
        info = matches[0]
        if not _safe_member_name(info.filename):
            raise UnsafeArchiveError(
                f"archive {name}: member {info.filename!r} points outside "
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
        # What zipfile raises for a member whose bytes are damaged (a bad CRC,
        # a cut deflate stream) or that it cannot decode (encrypted, exotic).
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise CorruptDataError(
                f"archive {name}: member {info.filename!r} cannot be extracted "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return target
