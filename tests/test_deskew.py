import numpy as np
import pytest

from lib.deskew import deskew, image_moments, slant


def slanted_bar(h=28, w=28, slope=0.4, col=13.5):
    """A one-pixel-wide bar whose column moves `slope` pixels per row."""
    im = np.zeros((h, w))
    for i in range(4, h - 4):
        c = col + slope * (i - (h - 1) / 2)
        lo = int(np.floor(c))
        im[i, lo] += 1 - (c - lo)
        im[i, lo + 1] += c - lo
    return im


@pytest.mark.parametrize("slope", [-0.5, -0.2, 0.3, 0.6])
def test_a_slanted_bar_becomes_upright_and_centred(slope):
    images = np.stack([slanted_bar(slope=slope), slanted_bar(slope=slope, col=9.0)])
    _, _, cov_before = image_moments(images)
    assert np.all(np.abs(cov_before) > 1.0)
    out = deskew(images)
    centre, var_rows, cov = image_moments(out.astype(float))
    # No slant left: the row-column covariance is tiny next to the row variance.
    assert np.all(np.abs(cov) < 0.02 * var_rows)
    np.testing.assert_allclose(centre, 13.5, atol=0.05)
    # Ink is moved, not created or destroyed (the bar stays inside the frame).
    np.testing.assert_allclose(out.sum(axis=(1, 2)), images.sum(axis=(1, 2)), rtol=1e-3)


def test_uint8_is_scaled_and_dtype_is_float32():
    im = (slanted_bar() * 255).round().astype(np.uint8)[None]
    out = deskew(im)
    assert out.dtype == np.float32 and out.shape == (1, 28, 28)
    assert 0.0 <= out.min() and out.max() <= 1.0
    np.testing.assert_allclose(out, deskew(im / 255.0), atol=1e-6)


def test_upright_centred_image_is_unchanged():
    im = np.zeros((1, 7, 7))
    im[0, 1:6, 3] = 1.0  # vertical bar through the centre
    np.testing.assert_allclose(deskew(im), im, atol=1e-12)


def test_blank_image_stays_blank_and_does_not_warn():
    with np.errstate(all="raise"):
        out = deskew(np.zeros((2, 28, 28)))
    assert np.all(out == 0)


def test_each_image_is_deskewed_on_its_own():
    a, b = slanted_bar(slope=0.5), slanted_bar(slope=-0.3, col=16.0)
    both = deskew(np.stack([a, b]))
    np.testing.assert_array_equal(both[0], deskew(a[None])[0])
    np.testing.assert_array_equal(both[1], deskew(b[None])[0])


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((28, 28)), r"shape \(28, 28\).*\(n, height, width\)"),
        (np.zeros((2, 784)), r"shape \(2, 784\)"),
        (np.full((1, 4, 4), np.nan), r"images.*NaN"),
        (-np.ones((1, 4, 4)), r"negative pixel"),
    ],
)
def test_bad_input_names_argument_and_fix(bad, match):
    with pytest.raises(ValueError, match=match):
        deskew(bad)


@pytest.mark.parametrize("slope", [-0.5, 0.0, 0.3])
def test_slant_is_the_columns_per_row_of_the_ink(slope):
    np.testing.assert_allclose(
        slant(slanted_bar(slope=slope)[None]), [slope], atol=0.02
    )
    assert slant(np.zeros((1, 28, 28))).tolist() == [0.0]
