"""Tests for the data layer: lib/datasets.py, lib/datafiles.py, lib/_gml.py.

All tests run offline. An autouse fixture replaces pooch's downloader with
one that fails the test, so no test reaches the network by accident; the
tests of downloads install fakes, and the no-network test points at a closed
local port.
"""

import dataclasses
import gzip
import hashlib
import os
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from lib import datafiles, datasets
from lib.datafiles import (
    CacheDirError,
    CorruptDataError,
    DataNotFoundError,
    HashMismatchError,
    Remote,
    UnsafeArchiveError,
)
from lib.datasets import Graph, load_image, load_mnist, load_polblogs, make_embeddings

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "polblogs" / "polblogs.gml").is_file(),
    reason="offline copies in ../shared/data are missing",
)


@pytest.fixture(autouse=True)
def forbid_network(monkeypatch):
    def downloader_for(url):
        def refuse(url, output_file, pooch_instance, check_only=False):
            raise AssertionError(f"a test tried to download {url}")

        return refuse

    monkeypatch.setattr(datafiles, "downloader", downloader_for)


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """Empty CFS_DATA_DIR and CFS_CACHE_DIR, private to the test."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    cache.mkdir()
    monkeypatch.setenv("CFS_DATA_DIR", str(data))
    monkeypatch.setenv("CFS_CACHE_DIR", str(cache))
    return data, cache


def fake_downloader(monkeypatch, content, fail_after=None):
    """Serve ``content`` for every URL; optionally die after ``fail_after`` bytes."""
    calls = []

    def downloader_for(url):
        def download(url, output_file, pooch_instance, check_only=False):
            calls.append(url)
            with open(output_file, "wb") as f:
                if fail_after is None:
                    f.write(content)
                    return
                f.write(content[:fail_after])
                f.flush()
                raise requests.exceptions.ConnectionError("connection reset")

        return download

    monkeypatch.setattr(datafiles, "downloader", downloader_for)
    return calls


def sha(data):
    return hashlib.sha256(data).hexdigest()


def register(monkeypatch, name, content, **kw):
    """Record ``content``'s hash for ``name`` (for files the test writes)."""
    kw.setdefault("urls", (f"https://example.invalid/{name}",))
    monkeypatch.setitem(datafiles.FILES, name, Remote(name, sha256=sha(content), **kw))


def idx_gz(array, magic_type=0x08):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return gzip.compress(header + array.tobytes())


def leftovers(folder):
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    )


# --------------------------------------------------------------------- MNIST


@needs_shared
def test_mnist_test_split_from_offline_copy(monkeypatch):
    monkeypatch.setenv("CFS_DATA_DIR", str(SHARED))
    images, labels = load_mnist()
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.int64
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert images.max() == 255 and images.min() == 0
    assert images.flags.writeable


@pytest.mark.parametrize("split", ["TEST", "validation", None])
def test_mnist_rejects_unknown_split(split):
    with pytest.raises(ValueError, match="split="):
        load_mnist(split)


@pytest.fixture
def tiny_mnist(dirs, monkeypatch):
    """Train (5 digits) and test (3 digits) IDX files in a tmp CFS_DATA_DIR."""
    data, _ = dirs
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 5), ("test", 3)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        img_name, lab_name, _ = datasets._MNIST[split]
        for name, array in ((img_name, images), (lab_name, labels)):
            blob = idx_gz(array)
            (data / name).parent.mkdir(exist_ok=True)
            (data / name).write_bytes(blob)
            register(monkeypatch, name, blob)
        monkeypatch.setitem(datasets._MNIST, split, (img_name, lab_name, n))
        arrays[split] = images, labels
    return data, arrays


def test_mnist_train_and_all_from_small_idx_files(tiny_mnist):
    _, arrays = tiny_mnist
    images, labels = load_mnist("train")
    np.testing.assert_array_equal(images, arrays["train"][0])
    np.testing.assert_array_equal(labels, arrays["train"][1])
    assert labels.dtype == np.int64
    images, labels = load_mnist("all")
    assert images.shape == (8, 28, 28)
    np.testing.assert_array_equal(images[5:], arrays["test"][0])
    np.testing.assert_array_equal(labels[:5], arrays["train"][1])


def _truncated_gzip(blob):
    return blob[: len(blob) // 2]


CORRUPTIONS = {
    "truncated gzip": (lambda: _truncated_gzip(idx_gz(np.zeros((5, 28, 28)))), "gzip"),
    "not gzip": (lambda: b"hello, I am not an IDX file", "gzip"),
    "wrong magic": (lambda: idx_gz(np.zeros((5, 28, 28)), magic_type=0x0D), "magic"),
    "wrong dimensions": (lambda: idx_gz(np.zeros((5, 27, 28))), "dimensions"),
    "wrong count": (lambda: idx_gz(np.zeros((4, 28, 28))), "dimensions"),
    "short data": (
        lambda: gzip.compress(
            bytes([0, 0, 8, 3]) + struct.pack(">3I", 5, 28, 28) + b"\0" * 100
        ),
        "truncated",
    ),
    "header only": (lambda: gzip.compress(b"\0\0\x08"), "header"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_mnist_corrupt_file_names_the_file(tiny_mnist, monkeypatch, case):
    data, _ = tiny_mnist
    make, words = CORRUPTIONS[case]
    blob = make()
    name = datasets._MNIST["train"][0]
    (data / name).write_bytes(blob)
    register(monkeypatch, name, blob)  # the hash is right, the content is not
    with pytest.raises(CorruptDataError, match=words) as info:
        load_mnist("train")
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert leftovers(data.parent / "cache") == []  # nothing half-parsed cached


# ------------------------------------------------------- fetch: the failures


def test_present_file_with_right_hash_never_downloads(dirs, monkeypatch):
    _, cache = dirs
    monkeypatch.delenv("CFS_DATA_DIR")
    blob = b"some bytes"
    register(monkeypatch, "mnist/x.gz", blob)
    (cache / "mnist").mkdir()
    (cache / "mnist" / "x.gz").write_bytes(blob)
    assert datafiles.fetch("mnist/x.gz") == cache / "mnist" / "x.gz"  # no download


def test_data_dir_wins_over_cache(dirs, monkeypatch):
    data, cache = dirs
    blob = b"ready copy"
    register(monkeypatch, "a/b.txt", blob)
    (data / "a").mkdir()
    (data / "a" / "b.txt").write_bytes(blob)
    assert datafiles.fetch("a/b.txt") == data / "a" / "b.txt"
    assert leftovers(cache) == []


def test_unknown_file_name():
    with pytest.raises(ValueError, match="name='nope'"):
        datafiles.fetch("nope")


def test_hash_mismatch_in_data_dir_names_file_and_hashes(dirs, monkeypatch):
    data, _ = dirs
    register(monkeypatch, "a/b.txt", b"the real thing")
    (data / "a").mkdir()
    (data / "a" / "b.txt").write_bytes(b"something else")
    with pytest.raises(HashMismatchError) as info:
        datafiles.fetch("a/b.txt")
    msg = str(info.value)
    assert "a/b.txt" in msg
    assert sha(b"the real thing") in msg and sha(b"something else") in msg
    # The user's ready copy is theirs: rejected every time, never modified.
    assert (data / "a" / "b.txt").read_bytes() == b"something else"
    with pytest.raises(HashMismatchError):
        datafiles.fetch("a/b.txt")


def test_hash_mismatch_on_download_is_not_kept(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, "a/b.txt", b"the real thing")
    fake_downloader(monkeypatch, b"a tampered file")
    with pytest.raises(HashMismatchError) as info:
        datafiles.fetch("a/b.txt")
    msg = str(info.value)
    assert "a/b.txt" in msg and sha(b"the real thing") in msg
    assert sha(b"a tampered file") in msg
    assert leftovers(cache) == []  # neither the file nor a temporary


def test_corrupt_cached_file_is_moved_aside_and_replaced(dirs, monkeypatch):
    _, cache = dirs
    monkeypatch.delenv("CFS_DATA_DIR")
    register(monkeypatch, "a/b.txt", b"the real thing")
    (cache / "a").mkdir()
    (cache / "a" / "b.txt").write_bytes(b"bit rot")
    fake_downloader(monkeypatch, b"the real thing")
    with pytest.warns(UserWarning, match="expected"):
        path = datafiles.fetch("a/b.txt")
    assert path.read_bytes() == b"the real thing"
    assert (cache / "a" / "b.txt.corrupt").read_bytes() == b"bit rot"


def test_interrupted_download_leaves_nothing_trusted(dirs, monkeypatch):
    _, cache = dirs
    blob = bytes(range(256)) * 100
    register(monkeypatch, "a/b.bin", blob)
    fake_downloader(monkeypatch, blob, fail_after=1000)
    with pytest.raises(DataNotFoundError):
        datafiles.fetch("a/b.bin")
    assert leftovers(cache) == []  # pooch removed its temporary file
    calls = fake_downloader(monkeypatch, blob)
    assert datafiles.fetch("a/b.bin").read_bytes() == blob
    assert len(calls) == 1


def test_download_killed_by_keyboard_interrupt_leaves_nothing(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, "a/b.bin", b"x" * 5000)

    def downloader_for(url):
        def download(url, output_file, pooch_instance, check_only=False):
            Path(output_file).write_bytes(b"x" * 2500)
            raise KeyboardInterrupt

        return download

    monkeypatch.setattr(datafiles, "downloader", downloader_for)
    with pytest.raises(KeyboardInterrupt):
        datafiles.fetch("a/b.bin")
    assert leftovers(cache) == []


def test_no_network_and_no_copy_says_where_to_put_it(dirs, monkeypatch):
    data, cache = dirs
    for name in datasets._MNIST["test"][:2]:  # discard port: nothing listens
        url = f"http://127.0.0.1:9/{name}"
        monkeypatch.setitem(
            datafiles.FILES,
            name,
            dataclasses.replace(datafiles.FILES[name], urls=(url,)),
        )
    name = datasets._MNIST["test"][0]  # the first file load_mnist asks for
    url = f"http://127.0.0.1:9/{name}"
    monkeypatch.setattr(datafiles, "downloader", lambda url: None)  # real HTTP
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("test")
    msg = str(info.value)
    assert url in msg and name in msg
    assert str(data / name) in msg and "CFS_DATA_DIR" in msg
    assert str(cache / name) in msg
    assert isinstance(info.value, FileNotFoundError)
    assert leftovers(cache) == []


# ------------------------------------------------------------ zip archives


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path.read_bytes()


def test_archive_download_extracts_only_the_member(dirs, monkeypatch, tmp_path):
    _, cache = dirs
    gml = (
        b"graph [ node [ id 1 value 0 ] node [ id 2 value 1 ] "
        b"edge [ source 1 target 2 ] ]"
    )
    register(monkeypatch, "polblogs/polblogs.gml", gml, member="polblogs.gml")
    blob = make_zip(
        tmp_path / "src.zip",
        {"../evil": b"pwned", "polblogs.gml": gml, "README": b"hi"},
    )
    fake_downloader(monkeypatch, blob)
    graph = load_polblogs()
    assert graph.n_nodes == 2 and graph.n_edges == 1
    assert not (tmp_path / "evil").exists() and not (cache / "evil").exists()
    assert not any(p.name == "evil" for p in tmp_path.parent.rglob("evil"))
    assert leftovers(cache) == ["polblogs/polblogs.gml", "polblogs/polblogs.gml.zip"]


def test_archive_member_with_traversal_is_refused(dirs, monkeypatch, tmp_path):
    _, cache = dirs
    gml = b"graph [ ]"
    register(monkeypatch, "polblogs/polblogs.gml", gml, member="polblogs.gml")
    blob = make_zip(tmp_path / "src.zip", {"../polblogs.gml": gml})
    fake_downloader(monkeypatch, blob)
    with pytest.raises(UnsafeArchiveError, match=r"\.\./polblogs\.gml"):
        datafiles.fetch("polblogs/polblogs.gml")
    assert not (cache / "polblogs.gml").exists()
    assert leftovers(cache) == []  # the bad archive is not kept either


@pytest.mark.parametrize(
    "name", ["../evil", "/etc/evil", "a/../../evil", "C:/evil", "a\\..\\evil", ""]
)
def test_unsafe_member_names(name):
    assert not datafiles._safe_member_name(name)


@pytest.mark.parametrize("name", ["polblogs.gml", "polblogs/polblogs.gml", "a/./b"])
def test_safe_member_names(name):
    assert datafiles._safe_member_name(name)


def test_archive_whose_member_has_wrong_hash(dirs, monkeypatch, tmp_path):
    _, cache = dirs
    register(monkeypatch, "polblogs/polblogs.gml", b"graph [ ]", member="polblogs.gml")
    fake_downloader(
        monkeypatch, make_zip(tmp_path / "s.zip", {"polblogs.gml": b"graph [ x 1 ]"})
    )
    with pytest.raises(HashMismatchError, match="polblogs"):
        datafiles.fetch("polblogs/polblogs.gml")
    assert leftovers(cache) == []


def test_archive_that_is_not_a_zip(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, "polblogs/polblogs.gml", b"graph [ ]", member="polblogs.gml")
    fake_downloader(monkeypatch, b"<html>moved</html>")
    with pytest.raises(CorruptDataError, match="zip"):
        datafiles.fetch("polblogs/polblogs.gml")
    assert leftovers(cache) == []


def test_archive_whose_member_is_damaged(dirs, monkeypatch, tmp_path):
    _, cache = dirs
    gml = b"graph [ node [ id 1 ] ]"
    register(monkeypatch, "polblogs/polblogs.gml", gml, member="polblogs.gml")
    blob = make_zip(tmp_path / "s.zip", {"polblogs.gml": gml})  # stored, not deflated
    fake_downloader(monkeypatch, blob.replace(gml, gml.upper()))  # a bad CRC
    with pytest.raises(CorruptDataError, match="cannot be extracted"):
        datafiles.fetch("polblogs/polblogs.gml")
    assert leftovers(cache) == []


# ---------------------------------------------- mirrors that give wrong content

M1, M2 = "https://one.invalid/f", "https://two.invalid/f"
HTML = b"<!DOCTYPE html><html><body>Please log in</body></html>"
GML = b"graph [ node [ id 1 ] node [ id 2 ] edge [ source 1 target 2 ] ]"


def fake_mirrors(monkeypatch, answers):
    """Serve ``answers[url]``: bytes, or an exception that the download raises."""
    calls = []

    def downloader_for(url):
        def download(url, output_file, pooch_instance, check_only=False):
            calls.append(url)
            if isinstance(answers[url], Exception):
                raise answers[url]
            Path(output_file).write_bytes(answers[url])

        return download

    monkeypatch.setattr(datafiles, "downloader", downloader_for)
    return calls


def test_html_page_from_a_mirror_falls_back_to_the_next(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, "a/b.txt", b"the real thing", urls=(M1, M2))
    calls = fake_mirrors(monkeypatch, {M1: HTML, M2: b"the real thing"})
    with pytest.warns(UserWarning, match="wrong content") as record:
        path = datafiles.fetch("a/b.txt")
    assert path.read_bytes() == b"the real thing" and calls == [M1, M2]
    assert M1 in str(record[0].message) and sha(HTML) in str(record[0].message)
    assert leftovers(cache) == ["a/b.txt"]  # no staging folder, no temporary


def test_every_mirror_failing_lists_each_and_says_what_to_do(dirs, monkeypatch):
    data, cache = dirs
    register(monkeypatch, "a/b.txt", b"the real thing", urls=(M1, M2))
    reset = requests.exceptions.ConnectionError("connection reset")
    fake_mirrors(monkeypatch, {M1: HTML, M2: reset})
    with pytest.raises(HashMismatchError) as info:
        datafiles.fetch("a/b.txt")
    msg = str(info.value)
    assert f"{M1} gave a file with SHA-256 {sha(HTML)}" in msg
    assert f"{M2}: ConnectionError: connection reset" in msg
    assert sha(b"the real thing") in msg  # what a copy must hash to
    assert str(data / "a" / "b.txt") in msg and str(cache / "a" / "b.txt") in msg
    assert leftovers(cache) == []


def _zip(tmp_path, members):
    return make_zip(tmp_path / f"z{len(list(tmp_path.iterdir()))}.zip", members)


WRONG_ARCHIVES = {
    "an HTML page": (lambda tmp: HTML, CorruptDataError, "an HTML page"),
    "no member": (
        lambda tmp: _zip(tmp, {"README": b"hi"}),
        CorruptDataError,
        "no member named 'polblogs.gml'",
    ),
    "wrong member": (
        lambda tmp: _zip(tmp, {"polblogs.gml": b"graph [ ]"}),
        HashMismatchError,
        sha(b"graph [ ]"),
    ),
    "damaged member": (
        lambda tmp: _zip(tmp, {"polblogs.gml": GML}).replace(GML, GML.upper()),
        CorruptDataError,
        "Bad CRC-32",
    ),
    "unsafe member": (
        lambda tmp: _zip(tmp, {"../polblogs.gml": GML}),
        UnsafeArchiveError,
        "'../polblogs.gml' points outside",
    ),
}


@pytest.mark.parametrize("case", list(WRONG_ARCHIVES))
def test_wrong_archive_from_a_mirror_falls_back_to_the_next(
    dirs, monkeypatch, tmp_path, case
):
    _, cache = dirs
    make, _, words = WRONG_ARCHIVES[case]
    register(
        monkeypatch, "polblogs/polblogs.gml", GML, member="polblogs.gml", urls=(M1, M2)
    )
    good = _zip(tmp_path, {"polblogs.gml": GML})
    calls = fake_mirrors(monkeypatch, {M1: make(tmp_path), M2: good})
    with pytest.warns(UserWarning, match="wrong content") as record:
        graph = load_polblogs()
    assert graph.n_nodes == 2 and calls == [M1, M2]
    assert M1 in str(record[0].message) and words in str(record[0].message)
    assert leftovers(cache) == ["polblogs/polblogs.gml", "polblogs/polblogs.gml.zip"]
    assert (cache / "polblogs" / "polblogs.gml.zip").read_bytes() == good
    assert not (tmp_path / "polblogs.gml").exists()  # the unsafe one went nowhere


@pytest.mark.parametrize("case", list(WRONG_ARCHIVES))
def test_wrong_archive_from_every_mirror(dirs, monkeypatch, tmp_path, case):
    _, cache = dirs
    make, error, words = WRONG_ARCHIVES[case]
    name = "polblogs/polblogs.gml"
    register(monkeypatch, name, GML, member="polblogs.gml", urls=(M1, M2))
    reset = requests.exceptions.ConnectionError("connection reset")
    fake_mirrors(monkeypatch, {M1: make(tmp_path), M2: reset})
    with pytest.raises(error) as info:
        datafiles.fetch(name)
    msg = str(info.value)
    assert M1 in msg and words in msg and f"{M2}: ConnectionError" in msg
    assert "extract 'polblogs.gml' from the zip" in msg and sha(GML) in msg
    assert leftovers(cache) == []


def test_unsafe_archive_is_named_whatever_the_other_mirror_gave(
    dirs, monkeypatch, tmp_path
):
    name = "polblogs/polblogs.gml"
    register(monkeypatch, name, GML, member="polblogs.gml", urls=(M1, M2))
    fake_mirrors(monkeypatch, {M1: _zip(tmp_path, {"../polblogs.gml": GML}), M2: HTML})
    with pytest.raises(UnsafeArchiveError) as info:
        datafiles.fetch(name)
    assert "'../polblogs.gml' points outside" in str(info.value)
    assert "an HTML page" in str(info.value)


@pytest.mark.parametrize("case", list(WRONG_ARCHIVES))
def test_stale_cached_archive_is_deleted_and_downloaded_again(
    dirs, monkeypatch, tmp_path, case
):
    _, cache = dirs
    monkeypatch.delenv("CFS_DATA_DIR")
    make, _, words = WRONG_ARCHIVES[case]
    name = "polblogs/polblogs.gml"
    register(monkeypatch, name, GML, member="polblogs.gml")
    (cache / "polblogs").mkdir()
    (cache / "polblogs" / "polblogs.gml.zip").write_bytes(make(tmp_path))
    good = _zip(tmp_path, {"polblogs.gml": GML})
    calls = fake_downloader(monkeypatch, good)
    with pytest.warns(UserWarning, match="deleted that cached archive") as record:
        assert datafiles.fetch(name).read_bytes() == GML
    assert words in str(record[0].message) and len(calls) == 1
    assert (cache / "polblogs" / "polblogs.gml.zip").read_bytes() == good
    assert datafiles.fetch(name).read_bytes() == GML and len(calls) == 1


def test_stale_cached_archive_is_downloaded_again_only_once(
    dirs, monkeypatch, tmp_path
):
    _, cache = dirs
    name = "polblogs/polblogs.gml"
    register(monkeypatch, name, GML, member="polblogs.gml")
    (cache / "polblogs").mkdir()
    (cache / "polblogs" / "polblogs.gml.zip").write_bytes(HTML)
    calls = fake_downloader(monkeypatch, HTML)  # the mirror is wrong as well
    with pytest.warns(UserWarning, match="deleted that cached archive"):
        with pytest.raises(CorruptDataError, match="an HTML page"):
            datafiles.fetch(name)
    assert len(calls) == 1 and leftovers(cache) == []


def test_right_cached_archive_is_extracted_without_download(
    dirs, monkeypatch, tmp_path
):
    _, cache = dirs
    name = "polblogs/polblogs.gml"
    register(monkeypatch, name, GML, member="polblogs.gml")
    (cache / "polblogs").mkdir()
    make_zip(cache / "polblogs" / "polblogs.gml.zip", {"polblogs.gml": GML})
    assert datafiles.fetch(name).read_bytes() == GML  # the network is forbidden
    assert leftovers(cache) == ["polblogs/polblogs.gml", "polblogs/polblogs.gml.zip"]


# ------------------------------------------------------------ a bad cache folder


@pytest.mark.parametrize("blocked", ["cache", "cache/a"])
def test_cache_dir_that_is_a_file(dirs, monkeypatch, tmp_path, blocked):
    data, cache = dirs
    if blocked == "cache":
        cache.rmdir()
    (tmp_path / blocked).write_bytes(b"not a folder")
    register(monkeypatch, "a/b.txt", b"the real thing")
    with pytest.raises(CacheDirError) as info:
        datafiles.fetch("a/b.txt")
    msg = str(info.value)
    assert f"CFS_CACHE_DIR={str(cache)!r}" in msg
    assert f"{tmp_path / blocked} is a file, not a folder" in msg
    assert "Set CFS_CACHE_DIR to a folder you can write to" in msg
    assert f"ready copy at {data / 'a' / 'b.txt'}" in msg
    assert isinstance(info.value, DataNotFoundError)  # and so an OSError


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="chmod does not stop root from writing; the next test simulates it",
)
def test_cache_dir_that_is_read_only(dirs, monkeypatch):
    _, cache = dirs
    monkeypatch.delenv("CFS_DATA_DIR")
    register(monkeypatch, "a/b.txt", b"the real thing")
    register(monkeypatch, "c.txt", b"a ready file")
    (cache / "c.txt").write_bytes(b"a ready file")
    cache.chmod(0o555)
    try:
        assert datafiles.fetch("c.txt").read_bytes() == b"a ready file"  # no write
        with pytest.raises(CacheDirError) as info:
            datafiles.fetch("a/b.txt")
    finally:
        cache.chmod(0o755)
    msg = str(info.value)
    assert f"CFS_CACHE_DIR={str(cache)!r}" in msg and "cannot be written" in msg
    assert "$CFS_DATA_DIR/a/b.txt" in msg


def test_cache_dir_that_cannot_be_written_simulated(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, "a/b.txt", b"the real thing")
    register(monkeypatch, "c.txt", b"a ready file")
    (cache / "c.txt").write_bytes(b"a ready file")

    def refuse(dir=None, **kw):
        raise PermissionError(13, "Permission denied", str(dir))

    monkeypatch.setattr(datafiles.tempfile, "mkdtemp", refuse)
    assert datafiles.fetch("c.txt").read_bytes() == b"a ready file"  # no write
    with pytest.raises(CacheDirError) as info:
        datafiles.fetch("a/b.txt")
    msg = str(info.value)
    assert f"CFS_CACHE_DIR={str(cache)!r}" in msg
    assert f"{cache / 'a'} cannot be written (PermissionError" in msg
    assert "CFS_DATA_DIR" in msg and sha(b"the real thing") in msg


# --------------------------------------------- what killed downloads left behind


def dead_pid():
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def staging(folder, pid, host=None, age_s=0):
    """A staging folder as a killed download leaves it, with a half file."""
    name = f".partial-{pid}" + ("" if host is None else f"-{age_s}x.{host}")
    path = folder / name
    path.mkdir(parents=True)
    (path / "tmpq8dz2c").write_bytes(b"half a download")
    then = time.time() - age_s
    for p in (path / "tmpq8dz2c", path):
        os.utime(p, (then, then))
    return path


@pytest.mark.skipif(os.name == "nt", reason="a pid is not asked about on Windows")
def test_staging_folders_of_gone_processes_are_swept(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, "a/b.txt", b"the real thing")
    here, gone = datafiles._host(), dead_pid()
    swept = [
        staging(cache / "a", gone, here),
        staging(cache / "a", gone + 1_000_000_000),  # no host: this machine
        staging(cache / "a", gone, "elsewhere.example", age_s=2 * 86400),
    ]
    kept = [
        staging(cache / "a", os.getpid(), here),
        staging(cache / "a", gone, "elsewhere.example", age_s=3600),  # may be live
    ]
    calls = fake_downloader(monkeypatch, b"the real thing")
    assert datafiles.fetch("a/b.txt").read_bytes() == b"the real thing"
    assert len(calls) == 1
    assert [p.exists() for p in swept] == [False] * 3
    assert [p.exists() for p in kept] == [True] * 2
    assert (kept[0] / "tmpq8dz2c").read_bytes() == b"half a download"


@pytest.mark.skipif(os.name == "nt", reason="a pid is not asked about on Windows")
def test_staging_folder_of_a_live_process_is_kept_until_it_ends(dirs, monkeypatch):
    _, cache = dirs
    monkeypatch.delenv("CFS_DATA_DIR")
    register(monkeypatch, "a/b.txt", b"the real thing")
    (cache / "a").mkdir()
    (cache / "a" / "b.txt").write_bytes(b"the real thing")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = staging(cache / "a", other.pid, datafiles._host())
        datafiles.fetch("a/b.txt")  # found in the cache: no download, a sweep
        assert (theirs / "tmpq8dz2c").is_file()
    finally:
        other.kill()
        other.wait()
    datafiles.fetch("a/b.txt")
    assert not theirs.exists()


def test_a_download_survives_another_process_sweeping(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, "a/b.txt", b"the real thing")
    seen = []

    def downloader_for(url):
        def download(url, output_file, pooch_instance, check_only=False):
            Path(output_file).write_bytes(b"the real thing")
            datafiles._sweep_staging(cache / "a")  # as a second process would
            seen.append(Path(output_file).is_file())

        return download

    monkeypatch.setattr(datafiles, "downloader", downloader_for)
    assert datafiles.fetch("a/b.txt").read_bytes() == b"the real thing"
    assert seen == [True] and leftovers(cache) == ["a/b.txt"]


# ------------------------------------------------------------------ polblogs


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("CFS_DATA_DIR", str(SHARED))


@needs_shared
def test_polblogs_figures(shared):
    graph = load_polblogs()
    assert isinstance(graph, Graph)
    assert graph.n_nodes == 1490 and graph.n_edges == 16_715
    a = graph.adjacency
    assert a.format == "csr" and a.dtype == np.float64
    assert (a != a.T).nnz == 0
    assert a.diagonal().sum() == 0
    assert set(np.unique(a.data)) == {1.0}
    assert np.bincount(graph.labels).tolist() == [758, 732]
    assert len(graph.names) == len(graph.sources) == 1490
    assert graph.names[0] == "100monkeystyping.com"
    assert any("logname=jamie&logcatid" in n for n in graph.names)  # was &#38;
    assert (graph.degrees == 0).sum() == 266


@needs_shared
def test_polblogs_subsets(shared):
    nonisolated = load_polblogs(drop_isolated=True)
    assert nonisolated.n_nodes == 1224 and nonisolated.n_edges == 16_715
    assert nonisolated.degrees.min() >= 1
    giant = load_polblogs(giant_component=True)
    assert giant.n_nodes == 1222
    from scipy.sparse.csgraph import connected_components

    assert connected_components(giant.adjacency)[0] == 1
    assert load_polblogs(drop_isolated=True, giant_component=True).n_nodes == 1222


@needs_shared
def test_graph_is_frozen(shared):
    graph = load_polblogs()
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.labels = None


@pytest.mark.parametrize("kwargs", [{"drop_isolated": 1}, {"giant_component": "yes"}])
def test_polblogs_rejects_non_bool(kwargs):
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        load_polblogs(**kwargs)


def test_gml_parser_is_tolerant(tmp_path):
    path = tmp_path / "g.gml"
    path.write_text(
        '# a comment\nCreator "me"\ngraph [\n directed 1\n'
        ' node [ id 10 label "a&#38;b" value 0 source "X,Y" ]\n'
        ' node [ id 20 label "c" value 1 ]\n node [ id 30 label "d" value 1 ]\n'
        " edge [ source 10 target 20 ]\n edge [ source 10 target 20 ]\n"
        " edge [ source 20 target 10 weight 2.5 ]\n edge [ source 30 target 30 ]\n]\n"
    )
    graph = datasets._graph_from_gml(path)
    assert graph.n_nodes == 3 and graph.n_edges == 1
    assert graph.adjacency.toarray().tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    assert graph.names.tolist() == ["a&b", "c", "d"]
    assert graph.sources.tolist() == ["X,Y", "", ""]
    assert graph.labels.tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    "text,words",
    [
        ("graph [ node [ id 1 ]", "truncated"),
        ("graph [ node [ id 1 ] ] ]", "unbalanced"),
        ("graph [ edge [ source 1 target 2 ] ]", "not declared"),
        ("graph [ node [ id 1 } ]", "cannot read"),
        ("nothing 1", "no 'graph"),
    ],
)
def test_gml_parser_errors_name_the_file(tmp_path, text, words):
    path = tmp_path / "bad.gml"
    path.write_text(text)
    with pytest.raises(CorruptDataError, match=words) as info:
        datasets._graph_from_gml(path)
    assert "bad.gml" in str(info.value)


# -------------------------------------------------------------------- images


@pytest.mark.parametrize("name", ["china", "flower", "china.jpg"])
def test_named_images(name):
    image = load_image(name)
    assert image.shape == (427, 640, 3) and image.dtype == np.uint8


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 255, 0)  # fully transparent
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    assert image.shape == (2, 2, 3) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [255, 0, 0]
    assert image[0, 1].tolist() == [255, 255, 255]
    assert 120 <= image[1, 0, 0] <= 135


def test_palette_image_with_transparency(tmp_path):
    img = Image.new("P", (3, 1))
    img.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    img.putdata([0, 1, 1])
    img.info["transparency"] = 0
    img.save(tmp_path / "p.png", transparency=0)
    image = load_image(str(tmp_path / "p.png"))
    assert image.tolist() == [[[255, 255, 255], [0, 255, 0], [0, 255, 0]]]


def test_greyscale_image_warns(tmp_path):
    Image.fromarray(np.array([[0, 200]], dtype=np.uint8), "L").save(tmp_path / "g.png")
    with pytest.warns(UserWarning, match="greyscale"):
        image = load_image(tmp_path / "g.png")
    assert image.tolist() == [[[0, 0, 0], [200, 200, 200]]]


def test_unreadable_image_names_the_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG not really")
    with pytest.raises(CorruptDataError, match="broken.png"):
        load_image(path)


def test_missing_image(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere"):
        load_image(tmp_path / "nothere.png")
    with pytest.raises(FileNotFoundError, match="'china'"):
        load_image("chinaa")
    with pytest.raises(TypeError, match="name_or_path"):
        load_image(42)


def test_image_from_url_is_cached(dirs, monkeypatch, tmp_path):
    _, cache = dirs
    Image.new("RGB", (4, 3), (10, 20, 30)).save(tmp_path / "c.png")
    calls = fake_downloader(monkeypatch, (tmp_path / "c.png").read_bytes())
    url = "https://example.invalid/pics/c.png"
    image = load_image(url)
    assert image.shape == (3, 4, 3) and image[0, 0].tolist() == [10, 20, 30]
    load_image(url)
    assert len(calls) == 1


# ---------------------------------------------------------------- embeddings


def test_embeddings_shape_labels_and_determinism():
    X, labels = make_embeddings(5000, 32, n_topics=8, seed=3, return_labels=True)
    assert X.shape == (5000, 32) and X.dtype == np.float32
    assert labels.shape == (5000,) and labels.dtype == np.int64
    counts = np.bincount(labels, minlength=8)
    assert counts.argmax() == 0 and counts[0] > counts[-1]  # Zipf popularity
    np.testing.assert_array_equal(X, make_embeddings(5000, 32, n_topics=8, seed=3))
    X_gen = make_embeddings(5000, 32, n_topics=8, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(X, X_gen)
    assert not np.array_equal(X, make_embeddings(5000, 32, n_topics=8, seed=4))


def test_embeddings_cluster_by_angle_with_heavy_tailed_norms():
    X, labels = make_embeddings(20_000, 64, n_topics=10, seed=0, return_labels=True)
    norms = np.linalg.norm(X, axis=1)
    assert norms.max() / np.median(norms) > 10  # heavy tail
    U = X / norms[:, None]
    centres = np.stack([U[labels == t].mean(axis=0) for t in range(10)])
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    nearest = np.argmax(U @ centres.T, axis=1)
    assert (nearest == labels).mean() > 0.95


def test_embeddings_spread_zero_puts_rows_on_their_topic():
    X, labels = make_embeddings(
        300, 8, n_topics=3, seed=1, spread=0.0, norm_spread=0.0, return_labels=True
    )
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, rtol=1e-5)
    for t in range(3):
        rows = X[labels == t]
        np.testing.assert_allclose(
            rows, np.broadcast_to(rows[0], rows.shape), atol=1e-6
        )


def test_embeddings_scale_without_large_temporaries():
    tracemalloc.start()
    try:
        X = make_embeddings(1_000_000, 64, n_topics=50, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert X.shape == (1_000_000, 64) and X.dtype == np.float32
    assert np.isfinite(X).all()
    # the result (256 MB) and its labels (8 MB) plus a few MB of chunk buffers
    assert peak < X.nbytes + 8_000_000 + 32 * 2**20, peak


@pytest.mark.parametrize(
    "kwargs,error,words",
    [
        ({"n": 0}, ValueError, "n=0"),
        ({"d": 2.5}, TypeError, "d must be an integer"),
        ({"n_topics": True}, TypeError, "n_topics"),
        ({"seed": "abc"}, TypeError, "seed"),
        ({"spread": -1.0}, ValueError, "spread"),
        ({"norm_spread": float("nan")}, ValueError, "norm_spread"),
    ],
)
def test_embeddings_validation(kwargs, error, words):
    args = {"n": 10, "d": 4, "n_topics": 2, "seed": 0} | kwargs
    with pytest.raises(error, match=words):
        make_embeddings(**args)


def test_importing_datasets_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys, lib; before = set(sys.modules); import lib.datasets; "
        "added = set(sys.modules) - before; "
        "print(sorted(m for m in added if m.split('.')[0] in "
        "('pooch', 'PIL', 'sklearn', 'requests', 'matplotlib')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert out.stdout.strip() == "[]"


def test_image_url_with_a_cache_that_is_a_file(dirs, tmp_path):
    _, cache = dirs
    cache.rmdir()
    cache.write_bytes(b"not a folder")
    with pytest.raises(CacheDirError, match=r"CFS_CACHE_DIR to a writable folder"):
        load_image("https://example.org/photo.png")
