"""The chapter-sized pieces of convlib against Keras: output sizes, "same" padding amounts,
the loop versions of chapter 00, dilated kernels, grouped convolution, the bias."""
import numpy as np
import pytest

from convlib import bias, conv, correlate, dilation, groups, output_size, padding
from tolerances import FLOAT64_IDENTITY_RTOL, MUST_DIFFER_ATOL, assert_close


def keras_conv(keras, x, kernel, **kwargs):
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], use_bias=False, **kwargs)
    layer.build(x.shape)
    layer.set_weights([kernel])
    return layer(x).numpy()


@pytest.mark.parametrize("padding_mode", ["valid", "same"])
def test_output_length_matches_keras_output_shape(padding_mode, keras):
    rng = np.random.default_rng(7)
    for _ in range(300):
        n, k, s, d = (int(v) for v in rng.integers(1, [40, 7, 5, 4]))
        if s > 1 and d > 1:
            d = 1
        if padding_mode == "valid" and d * (k - 1) + 1 > n:
            continue
        layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), dilation_rate=(d, 1),
                                    padding=padding_mode)
        expected = layer.compute_output_shape((1, n, 3, 1))[1]
        assert output_size.output_length(n, k, s, padding_mode, d) == expected, (n, k, s, d)


def test_same_padding_amounts_reproduce_keras_same_output(keras, rng):
    """Zero-padding by (before, after) and a valid conv must give Keras's "same" output
    exactly; splitting an odd total the other way (extra pixel top/left) must not."""
    odd_totals_seen = 0
    for _ in range(60):
        n_h, n_w = (int(v) for v in rng.integers(3, 14, size=2))
        k_h, k_w = (int(v) for v in rng.integers(1, 6, size=2))
        if rng.random() < 0.5:
            strides, dil = tuple(int(v) for v in rng.integers(1, 4, size=2)), (1, 1)
        else:
            strides, dil = (1, 1), tuple(int(v) for v in rng.integers(1, 4, size=2))
        x = rng.standard_normal((1, n_h, n_w, 2)).astype(np.float32)
        kernel = rng.standard_normal((k_h, k_w, 2, 3)).astype(np.float32)
        expected = keras_conv(keras, x, kernel, strides=strides, dilation_rate=dil,
                              padding="same")
        pads = tuple(padding.same_padding_amounts(n, k, s, d) for n, k, s, d in
                     zip((n_h, n_w), (k_h, k_w), strides, dil))
        for before, after in pads:
            assert after - before in (0, 1)
        padded = padding.pad_spatial(x, pads)
        got = conv.conv2d(padded, kernel, strides, "valid", dil)
        assert_close(got, expected, f"same conv via padding {pads}")
        if any((b + a) % 2 for b, a in pads):
            odd_totals_seen += 1
            flipped = tuple((a, b) for b, a in pads)
            wrong = conv.conv2d(padding.pad_spatial(x, flipped), kernel, strides, "valid", dil)
            assert not np.allclose(wrong, expected, atol=MUST_DIFFER_ATOL), "extra pixel top/left passed"
    assert odd_totals_seen >= 10


def test_pad_spatial_both_formats(rng):
    x = rng.standard_normal((2, 4, 5, 3))
    amounts = ((1, 2), (0, 3))
    last = padding.pad_spatial(x, amounts, "channels_last")
    first = padding.pad_spatial(x.transpose(0, 3, 1, 2), amounts, "channels_first")
    assert last.shape == (2, 7, 8, 3)
    np.testing.assert_array_equal(first.transpose(0, 2, 3, 1), last)
    np.testing.assert_array_equal(last[:, 1:5, 0:5, :], x)
    assert np.count_nonzero(last) == x.size


def test_loop_versions_match_keras_valid_conv(keras, rng):
    for _ in range(8):
        h, w, c, f = (int(v) for v in rng.integers(1, [12, 12, 5, 5]) + [3, 3, 0, 0])
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        x = rng.standard_normal((2, h, w, c)).astype(np.float32)
        kernel = rng.standard_normal((kh, kw, c, f)).astype(np.float32)
        expected = keras_conv(keras, x, kernel)
        assert_close(correlate.conv2d_valid(x, kernel), expected, "conv2d_valid")
        assert_close(correlate.correlate2d(x[1], kernel[..., f - 1]), expected[1, ..., f - 1],
                     "correlate2d")
        flipped = correlate.conv2d_valid(x, kernel[::-1, ::-1])
        if kh * kw > 1:  # a true convolution (flipped kernel) is not what Keras computes
            assert not np.allclose(flipped, expected, atol=MUST_DIFFER_ATOL)


def test_dilated_kernel_equals_dilated_conv(keras, rng):
    for d in [(1, 1), (2, 1), (2, 3), (3, 3)]:
        x = rng.standard_normal((2, 15, 14, 3)).astype(np.float32)
        kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
        holey = dilation.dilate_kernel(kernel, d)
        assert holey.shape[:2] == (d[0] * 2 + 1, d[1] * 1 + 1)
        assert_close(keras_conv(keras, x, holey), keras_conv(keras, x, kernel, dilation_rate=d),
                     f"dilated kernel {d}")
        assert_close(conv.conv2d(x, kernel, dilation_rate=d),
                     keras_conv(keras, x, kernel, dilation_rate=d), f"conv2d dilation {d}")


@pytest.mark.parametrize("n_groups", [1, 2, 3, 6])
def test_grouped_conv_from_ordinary_convs_matches_keras(n_groups, keras, rng):
    x = rng.standard_normal((2, 9, 8, 6)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 6 // n_groups, 12)).astype(np.float32)
    expected = keras_conv(keras, x, kernel, groups=n_groups, padding="same", strides=2)
    got = groups.grouped_conv2d(x, kernel, n_groups, conv.conv2d, padding="same", strides=2)
    assert_close(got, expected, f"grouped_conv2d groups={n_groups}")
    assert_close(conv.conv2d(x, kernel, 2, "same", 1, n_groups), expected, "conv2d groups")
    for o in range(12):
        assert groups.filter_group(o, 12, n_groups) == o // (12 // n_groups)
    assert groups.kernel_param_count((3, 3), 6, 12, n_groups) == kernel.size


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_bias_and_its_gradient(data_format, keras, tf, rng):
    shape = (3, 4, 5, 6) if data_format == "channels_last" else (3, 6, 4, 5)
    y = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    bt = tf.Variable(b)
    with tf.GradientTape() as tape:
        axis_shape = (1, 1, 1, 6) if data_format == "channels_last" else (1, 6, 1, 1)
        out = tf.constant(y) + tf.reshape(bt, axis_shape)
        loss = tf.reduce_sum(out * y)
    assert_close(bias.add_bias(y, b, data_format), out.numpy(), "add_bias")
    assert_close(bias.bias_gradient(y, data_format), tape.gradient(loss, bt).numpy(),
                 "bias_gradient")


@pytest.mark.parametrize("shape, kernel_shape, kwargs", [
    ((4, 32, 32, 16), (3, 3, 16, 32), dict(padding="same")),
    ((2, 28, 28, 1), (5, 5, 1, 8), dict(padding="valid", strides=2)),
    ((2, 20, 20, 32), (3, 3, 4, 32), dict(padding="same", groups=8)),
    ((2, 21, 19, 8), (3, 3, 8, 8), dict(padding="same", dilation_rate=2)),
])
def test_fast_path_on_benchmark_like_shapes(shape, kernel_shape, kwargs, keras, tf, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    kernel = rng.standard_normal(kernel_shape).astype(np.float32)
    layer = keras.layers.Conv2D(kernel_shape[-1], kernel_shape[:2], use_bias=False, **kwargs)
    layer.build(shape)
    layer.set_weights([kernel])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt)
        g = tf.constant(rng.standard_normal(y.shape).astype(np.float32))
        loss = tf.reduce_sum(y * g)
    dx, dk = tape.gradient(loss, [xt, layer.kernel])
    conv_args = {"strides": 1, "padding": "valid", "dilation_rate": 1, "groups": 1, **kwargs}
    got, cache = conv.conv2d(x, kernel, **conv_args, return_cache=True)
    assert_close(got, y.numpy(), "forward")
    gx, gk = conv.conv2d_backward(g.numpy(), cache)
    assert_close(gx, dx.numpy(), "d input")
    assert_close(gk, dk.numpy(), "d kernel")


@pytest.mark.parametrize("strides, dilation, n_groups", [((1, 1), (1, 1), 1), ((2, 3), (1, 1), 2),
                                                         ((1, 1), (2, 3), 3), ((3, 2), (2, 2), 1)])
def test_col2im_is_the_adjoint_of_im2col_and_gives_the_input_gradient(strides, dilation,
                                                                      n_groups, rng):
    """<im2col(x), c> == <x, col2im(c)>, and col2im(dy @ kernel^T) == input_gradient(dy)."""
    x = rng.standard_normal((2, 13, 11, 6))
    kernel = rng.standard_normal((3, 2, 6 // n_groups, 6))
    out_size = output_size.conv_output_spatial_shape((13, 11), (3, 2), strides, "valid", dilation)
    cols = conv.im2col(x, (3, 2), strides, dilation, out_size, n_groups)
    c = rng.standard_normal(cols.shape)
    back = conv.col2im(c, x.shape, (3, 2), strides, dilation)
    assert np.isclose(np.sum(cols * c), np.sum(x * back), rtol=FLOAT64_IDENTITY_RTOL)

    dy = rng.standard_normal((2,) + out_size + (6,))
    rows = dy.shape[0] * out_size[0] * out_size[1]
    weights = kernel.reshape(-1, n_groups, 6 // n_groups)
    grad_cols = np.einsum("mgf,kgf->mgk", dy.reshape(rows, n_groups, -1), weights)
    via_col2im = conv.col2im(grad_cols.reshape(cols.shape), x.shape, (3, 2), strides, dilation)
    via_conv = conv.input_gradient(dy, kernel, x.shape, ((0, 0), (0, 0)), strides, dilation,
                                   n_groups)
    np.testing.assert_allclose(via_conv, via_col2im, rtol=FLOAT64_IDENTITY_RTOL, atol=FLOAT64_IDENTITY_RTOL)
