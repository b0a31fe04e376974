"""Tests for lib.deep: shapes, determinism, the clustering-loss step, lazy torch."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lib.deep as deep

torch = pytest.importorskip("torch")


def _blobs(n_per=24, seed=0):
    """Images of three kinds (a bar at the top, middle or bottom), plus noise."""
    rng = np.random.default_rng(seed)
    imgs = rng.uniform(0, 0.1, (3 * n_per, 28, 28))
    for kind in range(3):
        imgs[kind * n_per : (kind + 1) * n_per, 4 + 8 * kind : 8 + 8 * kind, 4:24] = 1.0
    return imgs.astype(np.float32), np.repeat(np.arange(3), n_per)


# ---------------------------------------------------------------- the model


def test_shapes_follow_the_architecture():
    model = deep.conv_autoencoder(seed=0)
    x = torch.zeros(5, 1, 28, 28)
    sizes = []
    h = x
    for layer in model.encoder:
        h = layer(h)
        if isinstance(layer, torch.nn.Conv2d):
            sizes.append(tuple(h.shape[1:]))
    assert sizes == [(8, 14, 14), (16, 7, 7), (32, 3, 3), (64, 1, 1)]
    assert model.encoder(x).shape == (5, 64)
    out = model(x)
    assert out.shape == (5, 1, 28, 28)
    out = out.detach()
    assert float(out.min()) >= 0 and float(out.max()) <= 1  # sigmoid output


def test_init_is_seeded_and_leaves_global_state_alone():
    state = torch.random.get_rng_state()
    a = deep.conv_autoencoder(seed=3).state_dict()
    b = deep.conv_autoencoder(seed=3).state_dict()
    c = deep.conv_autoencoder(seed=4).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(a[key], b[key]) for key in a)
    assert not all(torch.equal(a[key], c[key]) for key in a)


def test_get_device():
    assert deep.get_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert deep.get_device("auto").type == expected
    with pytest.raises(ValueError, match="device='tpu'"):
        deep.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            deep.get_device("cuda")


# ---------------------------------------------------------------- training


def test_pretraining_lowers_the_reconstruction_error():
    imgs, _ = _blobs()
    model = deep.conv_autoencoder(seed=0)
    hist, C = deep.train_autoencoder(
        model,
        imgs,
        pretrain_epochs=10,
        batch_size=16,
        lr=3e-3,
        seed=0,
        device="cpu",
        progress=False,
    )
    assert C is None
    assert hist.stage == ["pretrain"] * 10
    assert hist.recon[-1] < 0.5 * hist.recon[0]
    assert hist.total == hist.recon and set(hist.cluster) == {0.0}


def test_training_is_deterministic_by_seed_on_cpu():
    imgs, _ = _blobs(n_per=10)

    def run(seed):
        model = deep.conv_autoencoder(seed=0)
        hist, C = deep.train_autoencoder(
            model,
            imgs,
            k=3,
            pretrain_epochs=2,
            joint_epochs=2,
            batch_size=8,
            seed=seed,
            device="cpu",
            progress=False,
        )
        return hist, C, deep.encode(model, imgs, device="cpu")

    h1, C1, Z1 = run(0)
    h2, C2, Z2 = run(0)
    h3, _, Z3 = run(1)
    np.testing.assert_array_equal(Z1, Z2)
    np.testing.assert_array_equal(C1, C2)
    assert h1.total == h2.total
    assert not np.array_equal(Z1, Z3)  # the seed really drives the batch order


def test_joint_training_lowers_the_clustering_loss():
    imgs, _ = _blobs()
    model = deep.conv_autoencoder(seed=0)
    hist, C = deep.train_autoencoder(
        model,
        imgs,
        k=3,
        pretrain_epochs=5,
        joint_epochs=5,
        lam=0.1,
        batch_size=16,
        lr=3e-3,
        seed=0,
        device="cpu",
        progress=False,
    )
    assert hist.stage == ["pretrain"] * 5 + ["joint"] * 5 and C.shape == (3, 64)
    joint = slice(5, None)
    assert hist.cluster[-1] < hist.cluster[5]
    np.testing.assert_allclose(
        hist.total[joint],
        np.array(hist.recon[joint]) + 0.1 * np.array(hist.cluster[joint]),
        rtol=1e-5,
    )
    # The returned centroids are where the codes are: WCSS to them is small
    # compared with the spread of the codes.
    Z = deep.encode(model, imgs, device="cpu")
    d2 = ((Z[:, None, :] - C[None]) ** 2).sum(-1).min(1)
    assert d2.mean() < 0.5 * ((Z - Z.mean(0)) ** 2).sum(1).mean()


@pytest.mark.parametrize("batch_size", [1, 71])  # 72 images: a last batch of one
def test_a_batch_of_one_image_keeps_the_model_finite(batch_size):
    imgs, _ = _blobs()
    model = deep.conv_autoencoder(seed=0)
    hist, C = deep.train_autoencoder(
        model,
        imgs,
        k=3,
        pretrain_epochs=1,
        joint_epochs=1,
        batch_size=batch_size,
        seed=0,
        device="cpu",
        progress=False,
    )
    assert np.isfinite(hist.total).all() and np.isfinite(C).all()
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_diverging_loss_is_an_error_that_says_so():
    imgs, _ = _blobs()
    with pytest.raises(FloatingPointError, match=r"loss became .*lower lr"):
        deep.train_autoencoder(
            deep.conv_autoencoder(seed=0),
            imgs,
            k=3,
            pretrain_epochs=3,
            lr=1e12,
            seed=0,
            device="cpu",
            progress=False,
        )


def test_refresh_centroids_is_a_running_mean():
    # Two centroids, each seen once so far (count 1). A batch sends the codes
    # 2 and 4 to centroid 0 (at 0) and nothing to centroid 1: the running mean
    # of {0, 2, 4} is 2, and centroid 1 stays put.
    C = torch.tensor([[0.0], [100.0]])
    counts = torch.ones(2)
    deep.refresh_centroids(C, counts, torch.tensor([[2.0], [4.0]]), 2, torch)
    assert C.tolist() == [[2.0], [100.0]]
    assert counts.tolist() == [3.0, 1.0]
    # One more code at 10: mean of {0, 2, 4, 10} is 4.
    deep.refresh_centroids(C, counts, torch.tensor([[10.0]]), 2, torch)
    assert C.tolist() == [[4.0], [100.0]]


def test_clustering_loss_gradient_pulls_codes_to_their_centroid():
    # The WCSS term's gradient with respect to a code z is 2 (z - c) / batch:
    # a step of gradient descent moves z straight towards its centroid.
    z = torch.tensor([[1.0, 1.0], [9.0, 9.0]], requires_grad=True)
    C = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    a = torch.cdist(z, C).argmin(dim=1)
    wcss = ((z - C[a]) ** 2).sum(dim=1).mean()
    wcss.backward()
    np.testing.assert_allclose(z.grad.numpy(), [[1.0, 1.0], [-1.0, -1.0]])
    assert a.tolist() == [0, 1]


# ---------------------------------------------------------------- UMAP and the pipeline


def test_umap_embed_is_seeded():
    pytest.importorskip("umap")
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (40, 5)), rng.normal(8, 1, (40, 5))])
    E1 = deep.umap_embed(X, 2, n_neighbors=10, seed=0)
    E2 = deep.umap_embed(X, 2, n_neighbors=10, seed=0)
    assert E1.shape == (80, 2)
    np.testing.assert_array_equal(E1, E2)
    short = deep.umap_embed(X, 2, n_neighbors=10, n_epochs=5, seed=0)
    # n_epochs reaches UMAP.
    assert short.shape == (80, 2) and not np.allclose(short, E1)


def test_umap_compiles_once_per_machine_not_per_process():
    # umap-learn's layout is numba code it does not cache: lib.deep has numba
    # cache it, so that each new kernel (each graded submission) loads it.
    pytest.importorskip("umap")
    from umap import layouts

    deep.umap_embed(np.random.default_rng(0).normal(size=(60, 3)), 2, seed=0)
    stats = layouts._nb_optimize_layout_euclidean_single_epoch.stats
    assert stats.cache_path is not None
    assert sum(stats.cache_hits.values()) + sum(stats.cache_misses.values()) >= 1


def test_umap_embed_leaves_torch_threads_alone():
    # Above 4,096 points UMAP searches neighbours with pynndescent, whose numba
    # threads can share PyTorch's libgomp and used to leave PyTorch on one
    # thread per core: the next training then rounded differently.
    pytest.importorskip("umap")
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X = np.random.default_rng(0).normal(size=(5000, 5))
        deep.umap_embed(X, 2, n_neighbors=10, n_epochs=2, seed=0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_pipeline_recovers_three_bars():
    pytest.importorskip("umap")
    from sklearn.metrics import adjusted_rand_score

    imgs, y = _blobs(n_per=30)
    res = deep.n2d_pipeline(
        imgs,
        3,
        seed=0,
        pretrain_epochs=8,
        joint_epochs=2,
        n_components=3,
        n_neighbors=10,
        batch_size=16,
        lr=3e-3,
        device="cpu",
        progress=False,
    )
    assert res.embedding.shape == (90, 3)
    assert res.codes.shape == res.pretrained_codes.shape == (90, 64)
    assert len(res.history.stage) == 10
    assert adjusted_rand_score(y, res.labels) > 0.9


def test_pipeline_from_a_pretrained_model_equals_the_whole_pipeline():
    pytest.importorskip("umap")
    imgs, _ = _blobs(n_per=10)
    options = dict(n_components=2, n_neighbors=5, umap_epochs=20, batch_size=8)
    options.update(joint_epochs=1, seed=0, device="cpu", progress=False)
    whole = deep.n2d_pipeline(imgs, 3, pretrain_epochs=2, **options)
    model = deep.conv_autoencoder(seed=0)
    deep.train_autoencoder(
        model,
        imgs,
        pretrain_epochs=2,
        batch_size=8,
        seed=0,
        device="cpu",
        progress=False,
    )
    before = [t.clone() for t in model.state_dict().values()]
    resumed = deep.n2d_pipeline(imgs, 3, pretrain_epochs=0, model=model, **options)
    np.testing.assert_array_equal(resumed.pretrained_codes, whole.pretrained_codes)
    np.testing.assert_array_equal(resumed.codes, whole.codes)
    np.testing.assert_array_equal(resumed.labels, whole.labels)
    after = list(model.state_dict().values())
    assert all((a == b).all() for a, b in zip(before, after))  # a copy was trained


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "images, err, match",
    [
        ("digits.npy", TypeError, "images must be an array"),
        (np.zeros((4, 27, 27)), ValueError, r"shape \(4, 27, 27\)"),
        (np.full((2, 28, 28), 255.0), ValueError, "divide uint8-range floats by 255"),
        (np.array([[["a"] * 28] * 28]), TypeError, "must hold numbers"),
    ],
)
def test_bad_images(images, err, match):
    with pytest.raises(err, match=match):
        deep.encode(deep.conv_autoencoder(), images, device="cpu")


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"k": 0}, ValueError, "k=0 is too small"),
        ({"k": 99}, ValueError, r"k=99 is larger than the number of images \(8\)"),
        ({"pretrain_epochs": -1}, ValueError, "pretrain_epochs=-1"),
        ({"lam": -0.5}, ValueError, "lam=-0.5"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
    ],
)
def test_bad_training_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        deep.train_autoencoder(
            deep.conv_autoencoder(),
            np.zeros((8, 28, 28)),
            device="cpu",
            progress=False,
            **{"k": 3, **kwargs},
        )


def test_bad_channels():
    with pytest.raises(ValueError, match="channels=.*4 positive ints"):
        deep.conv_autoencoder(channels=(8, 16))


def test_bad_umap_arguments():
    pytest.importorskip("umap")
    with pytest.raises(ValueError, match="n_neighbors=50 is larger"):
        deep.umap_embed(np.zeros((10, 3)), n_neighbors=50)
    with pytest.raises(ValueError, match="n_epochs=0"):
        deep.umap_embed(np.zeros((10, 3)), n_neighbors=5, n_epochs=0)


# ---------------------------------------------------------------- lazy imports

HIDE = textwrap.dedent("""
    import importlib.abc, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "umap"):
                raise ImportError(f"No module named {name!r} (hidden by the test)")
            return None

    sys.meta_path.insert(0, Hide())
""")


def _run_hidden(code):
    return subprocess.run(
        [sys.executable, "-c", HIDE + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_lib_works_without_torch_and_umap():
    out = _run_hidden("""
        import sys
        import lib, lib.deep
        import numpy as np
        assert "torch" not in sys.modules and "umap" not in sys.modules
        print(lib.kmeans(np.array([[0.0], [1.0], [9.0]]), 2, seed=0).labels.tolist())
        for call in (lambda: lib.deep.conv_autoencoder(),
                     lambda: lib.deep.get_device(),
                     lambda: lib.deep.umap_embed(np.zeros((5, 2)))):
            try:
                call()
            except ImportError as err:
                print("ERR:", err)
            else:
                raise SystemExit("no ImportError")
    """)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] in ("[0, 0, 1]", "[1, 1, 0]")
    errors = [line for line in lines if line.startswith("ERR:")]
    assert len(errors) == 3
    for line in errors[:2]:
        assert "'torch'" in line and "pip install torch==2.13.0" in line
    assert "'umap'" in errors[2] and "pip install umap-learn" in errors[2]


def test_import_lib_does_not_import_torch():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lib, lib.deep; "
            "print('torch' in sys.modules, 'umap' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- shared results


def test_memo_computes_once_and_shares_between_calls(tmp_path, monkeypatch):
    from lib import _memo

    calls = []

    def save(a, result, path):
        with open(path, "wb") as file:
            np.save(file, result)

    @_memo.shared(
        "square",
        key=lambda a: None if a["seed"] is None else (a["x"], a["seed"]),
        save=save,
        load=lambda a, path: np.load(path),
    )
    def square(x, seed=None):
        calls.append(seed)
        return np.asarray(x) ** 2

    x = np.arange(4.0)
    square(x, seed=0)
    assert calls == [0]  # CFS_MEMO_DIR unset: nothing stored
    monkeypatch.setenv("CFS_MEMO_DIR", str(tmp_path / "memo"))
    first = square(x, seed=0)
    again = square(x.copy(), seed=0)
    other = square(x + 1, seed=0)
    square(x)  # no seed: not shared
    square(x)
    assert calls == [0, 0, 0, None, None]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(other, (x + 1) ** 2)
    files = sorted(p.name for p in (tmp_path / "memo").iterdir())
    assert sum(f.endswith(".lock") for f in files) == 2
    assert not any(f.endswith(".partial") for f in files)


def test_shared_training_and_umap_equal_computed_ones(tmp_path, monkeypatch):
    pytest.importorskip("umap")
    imgs, _ = _blobs(n_per=10)
    options = dict(k=3, pretrain_epochs=2, joint_epochs=1, batch_size=8)

    def train():
        model = deep.conv_autoencoder(seed=0)
        hist, C = deep.train_autoencoder(
            model, imgs, **options, seed=0, device="cpu", progress=False
        )
        return hist, C, deep.encode(model, imgs, device="cpu")

    computed = train()
    monkeypatch.setenv("CFS_MEMO_DIR", str(tmp_path))
    stored, loaded = train(), train()
    assert len(list(tmp_path.glob("train-*[!k]"))) == 1  # one result file
    for got in (stored, loaded):
        assert got[0] == computed[0]  # the history
        np.testing.assert_array_equal(got[1], computed[1])
        np.testing.assert_array_equal(got[2], computed[2])
    # a bad argument is still the function's own clear error, not the memo's
    with pytest.raises(ValueError, match="pretrain_epochs"):
        deep.train_autoencoder(
            deep.conv_autoencoder(seed=0), imgs, pretrain_epochs=-1, seed=0
        )
    X = computed[2]
    E = [deep.umap_embed(X, 2, n_neighbors=5, n_epochs=10, seed=0) for _ in "ab"]
    monkeypatch.delenv("CFS_MEMO_DIR")
    np.testing.assert_array_equal(E[0], E[1])
    np.testing.assert_array_equal(
        E[1], deep.umap_embed(X, 2, n_neighbors=5, n_epochs=10, seed=0)
    )
    assert len(list(tmp_path.glob("umap-*[!k]"))) == 1
