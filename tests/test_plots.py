"""lib.plots: the figures have the artists, colours and labels the chapters rely on."""

import json
import pathlib
import re
import subprocess
import sys

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgba

from lib import plots
from lib.plots import (
    IMAGE_CMAP,
    NOISE_COLOR,
    PALETTE,
    covariance_ellipse,
    draw_graph,
    image_grid,
    objective_curve,
    scatter_by_label,
    style,
)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def facecolors(collection):
    return {to_hex(c) for c in collection.get_facecolors()}


def test_palette_is_ten_distinct_colours_without_the_noise_grey():
    assert len(PALETTE) == 10 == len(set(PALETTE))
    assert all(to_hex(c) == c for c in PALETTE)
    assert NOISE_COLOR not in PALETTE


def test_import_lib_plots_does_not_import_matplotlib():
    code = "import sys, lib.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_style_sets_the_palette_and_the_image_colour_map():
    with matplotlib.rc_context():
        style()
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == list(PALETTE)
        assert matplotlib.rcParams["image.cmap"] == IMAGE_CMAP
        fig, ax = plt.subplots()
        (line,) = ax.plot([0, 1])
        assert to_hex(line.get_color()) == PALETTE[0]
        plt.close(fig)


def test_scatter_by_label_one_collection_per_label_in_its_palette_colour(ax):
    X = np.arange(24, dtype=float).reshape(12, 2)
    labels = np.array([0, 1, 2, 11] * 3)
    scatter_by_label(ax, X, labels)
    handles, names = ax.get_legend_handles_labels()
    assert names == ["0", "1", "2", "11"]
    # Label 11 wraps round to the palette's second colour, as j % 10.
    assert [facecolors(h) for h in handles] == [
        {PALETTE[0]},
        {PALETTE[1]},
        {PALETTE[2]},
        {PALETTE[1]},
    ]
    assert [len(h.get_offsets()) for h in handles] == [3, 3, 3, 3]


def test_scatter_by_label_draws_noise_distinctly(ax):
    X = np.random.default_rng(0).normal(size=(10, 2))
    labels = np.array([-1, -1, -1, 0, 0, 0, 7, 7, 7, 7])
    scatter_by_label(ax, X, labels)
    by_name = dict(zip(*reversed(ax.get_legend_handles_labels())))
    noise = by_name["noise"]
    assert len(noise.get_offsets()) == 3
    assert facecolors(noise) == {NOISE_COLOR}
    assert facecolors(by_name["7"]) == {PALETTE[7]}
    # A different marker as well as a lighter grey than the palette's grey.
    noise_path = noise.get_paths()[0].vertices
    cluster_path = by_name["7"].get_paths()[0].vertices
    assert noise_path.shape != cluster_path.shape or not np.allclose(
        noise_path, cluster_path
    )
    # Drawn first, under the clusters.
    assert ax.collections[0] is noise


def test_scatter_by_label_without_noise_label_colours_minus_one(ax):
    X = np.zeros((2, 2))
    scatter_by_label(ax, X, np.array([-1, 0]), noise_label=None)
    assert ax.get_legend_handles_labels()[1] == ["-1", "0"]


def test_scatter_by_label_names_and_centroids(ax):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    C = np.array([[0.5, 0.5], [5.0, 5.0]])
    scatter_by_label(ax, X, [0, 0, 1], C, names={0: "liberal", 1: "conservative"})
    handles, names = ax.get_legend_handles_labels()
    assert names == ["liberal", "conservative", "centroids"]
    centroids = handles[-1]
    np.testing.assert_array_equal(centroids.get_offsets(), C)
    assert facecolors(centroids) == {"#000000"}
    assert centroids.get_zorder() > handles[0].get_zorder()


def test_scatter_by_label_centroids_in_their_cluster_colour(ax):
    X = np.zeros((3, 2))
    C = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    scatter_by_label(ax, X, [0, 1, 2], C, centroid_color=None)
    centroids = ax.collections[-1]
    assert [to_hex(c) for c in centroids.get_facecolors()] == list(PALETTE[:3])
    assert {to_hex(c) for c in centroids.get_edgecolors()} == {"#000000"}


@pytest.mark.parametrize(
    "X, labels, error, match",
    [
        (np.zeros((3, 3)), [0, 0, 0], ValueError, r"X has shape \(3, 3\)"),
        (np.zeros((3, 2)), [0, 0], ValueError, "one label per row"),
        (np.zeros((3, 2)), [0.5, 0, 0], TypeError, "integer cluster labels"),
    ],
)
def test_scatter_by_label_rejects_bad_input(ax, X, labels, error, match):
    with pytest.raises(error, match=match):
        scatter_by_label(ax, X, labels)


def test_image_grid_shape_colour_map_and_labels():
    digits = np.arange(12 * 784).reshape(12, 784) % 256
    fig, axes = image_grid(
        digits, ncols=5, titles=[str(i) for i in range(12)], row_labels="abc"
    )
    assert axes.shape == (3, 5)
    shown = [ax for ax in axes.ravel() if ax.images]
    assert len(shown) == 12
    assert all(ax.images[0].get_array().shape == (28, 28) for ax in shown)
    assert {ax.images[0].get_cmap().name for ax in shown} == {IMAGE_CMAP}
    assert [ax.get_title() for ax in shown] == [str(i) for i in range(12)]
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["a", "b", "c"]
    assert not any(ax.axison for ax in axes.ravel()[12:])
    assert all(not ax.get_xticks().size and not ax.get_yticks().size for ax in shown)
    plt.close(fig)


def test_image_grid_column_labels_fixed_grey_scale_and_photos():
    fig, axes = image_grid(
        np.zeros((4, 8, 8)), ncols=2, col_labels=["x", "y"], vmin=0, vmax=255
    )
    assert [ax.get_title() for ax in axes[0]] == ["x", "y"]
    assert axes[1, 0].images[0].get_clim() == (0, 255)
    plt.close(fig)
    photos = [np.zeros((4, 6, 3), np.uint8), np.zeros((5, 5, 3), np.uint8)]
    fig, axes = image_grid(photos, ncols=3, figsize=(6, 3))
    assert axes.shape == (1, 2)  # never more columns than images
    assert axes[0, 0].images[0].get_array().shape == (4, 6, 3)
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(titles=["a"]), "titles has 1 entries for 3 images"),
        (dict(row_labels=["a", "b"]), "row_labels has 2 entries for 1 rows"),
        (dict(titles=list("abc"), col_labels=list("abc")), "not both"),
        (dict(ncols=0), "ncols=0"),
    ],
)
def test_image_grid_rejects_bad_labels(kwargs, match):
    with pytest.raises(ValueError, match=match):
        image_grid(np.zeros((3, 4, 4)), **kwargs)
    plt.close("all")


def test_image_grid_rejects_a_flat_row_that_is_not_square():
    with pytest.raises(ValueError, match="not a square"):
        image_grid(np.zeros((2, 10)))


def test_objective_curve_axes_labels_and_log_scale(ax):
    objective_curve(
        ax, [8.0, 4.0, 2.0], start=1, log=True, ylabel="loss", color=PALETTE[2]
    )
    (line,) = ax.lines
    assert line.get_xdata().tolist() == [1, 2, 3]
    assert line.get_ydata().tolist() == [8.0, 4.0, 2.0]
    assert to_rgba(line.get_color()) == to_rgba(PALETTE[2])
    assert line.get_marker() == "o"
    assert ax.get_yscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("iteration", "loss")


def test_objective_curve_at_given_x_keeps_labels(ax):
    ax.set_xlabel("k")
    objective_curve(ax, [3.0, 1.0], x=[2, 4], fmt="s--", xlabel=None, label="J")
    assert ax.lines[0].get_xdata().tolist() == [2, 4]
    assert ax.get_xlabel() == "k"
    assert ax.get_legend_handles_labels()[1] == ["J"]
    with pytest.raises(ValueError, match="x has 1 entries for 2 values"):
        objective_curve(ax, [3.0, 1.0], x=[2])


def test_every_public_name_is_documented():
    for name in (
        "style",
        "scatter_by_label",
        "image_grid",
        "objective_curve",
        "covariance_ellipse",
        "draw_graph",
    ):
        assert "Parameters" in getattr(plots, name).__doc__ or name == "style"
        assert "Examples" in getattr(plots, name).__doc__


def test_covariance_ellipse_is_the_mahalanobis_contour(ax):
    cov = np.array([[3.0, 1.2], [1.2, 1.0]])
    mean = np.array([1.0, -2.0])
    e = covariance_ellipse(ax, mean, cov, n_std=2.0, edgecolor=PALETTE[1])
    assert e in ax.patches and to_hex(e.get_edgecolor()) == PALETTE[1]
    assert e.get_facecolor()[3] == 0  # not filled
    # Every point of the drawn outline is at Mahalanobis distance 2 from the mean.
    # (every third vertex of the Bezier path lies on the curve)
    outline = e.get_patch_transform().transform(e.get_path().vertices[::3])
    diff = outline - mean
    dist2 = np.einsum("nd,de,ne->n", diff, np.linalg.inv(cov), diff)
    np.testing.assert_allclose(dist2, 4.0, rtol=1e-6)


@pytest.mark.parametrize(
    "mean, cov, kwargs, match",
    [
        ([0, 0, 0], np.eye(2), {}, "shape"),
        ([0, 0], [[1.0, 0.5], [0.0, 1.0]], {}, "not symmetric"),
        ([0, 0], [[1.0, 0.0], [0.0, -1.0]], {}, "positive definite"),
        ([0, 0], np.eye(2), {"n_std": 0}, "n_std=0"),
    ],
)
def test_covariance_ellipse_rejects_bad_input(ax, mean, cov, kwargs, match):
    with pytest.raises(ValueError, match=match):
        covariance_ellipse(ax, mean, cov, **kwargs)


def test_draw_graph_one_line_per_edge_and_nodes_in_label_colours(ax):
    A = np.zeros((5, 5))
    A[[0, 1, 2], 4] = A[4, [0, 1, 2]] = 1.0
    pos = np.array([[0, 1], [1, 1], [2, 1], [3, 0], [1, 0]], float)
    draw_graph(ax, A, pos, labels=[0, 0, 0, 1, 0])
    assert len(ax.lines) == 3
    ends = {tuple(map(tuple, line.get_xydata())) for line in ax.lines}
    assert ends == {tuple(map(tuple, pos[[i, 4]])) for i in (0, 1, 2)}
    (nodes,) = ax.collections
    assert [to_hex(c) for c in nodes.get_facecolors()] == [PALETTE[0]] * 3 + [
        PALETTE[1],
        PALETTE[0],
    ]
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    "A, pos, kwargs, match",
    [
        (np.eye(3)[:2], np.zeros((3, 2)), {}, "adjacency"),
        ([[0, 1], [0, 0]], np.zeros((2, 2)), {}, "symmetric"),
        (np.zeros((3, 3)), np.zeros((2, 2)), {}, "pos has shape"),
        (np.zeros((2, 2)), np.zeros((2, 2)), {"names": ["a"]}, "names has 1"),
    ],
)
def test_draw_graph_rejects_bad_input(ax, A, pos, kwargs, match):
    with pytest.raises(ValueError, match=match):
        draw_graph(ax, A, pos, **kwargs)


OKABE_ITO = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
)
NOTEBOOKS = sorted(
    (pathlib.Path(__file__).resolve().parents[1] / "book").glob("*.ipynb")
)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_draw_with_the_book_palette(nb):
    cells = json.loads(nb.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert 'color_palette("colorblind"' not in code, (
        f"{nb.name} defines its own palette; use lib.plots.PALETTE"
    )
    own = set(re.findall(r"#[0-9a-fA-F]{6}\b", code.lower())) & (
        set(PALETTE) | set(OKABE_ITO)
    )
    assert not own, f"{nb.name} spells out palette colours {own}; use PALETTE[j]"
    draws = "matplotlib" in code
    assert not draws or re.search(r"^style\(\)", code, flags=re.M), (
        f"{nb.name} never calls lib.plots.style()"
    )
