"""convlib vs Keras, side by side in one run: forward pass and gradient.

    python benchmarks/bench_conv2d.py [--repeats 7] [--quick]

For each shape both layers get the same weights and input; each is timed `repeats` times
after a warm-up and the median is reported. "forward" is `layer(x)`; "gradient" is the
forward pass plus the gradients with respect to the input, the kernel and the bias
(convlib: layer(x) then layer.backward(dy); Keras: the same under tf.GradientTape).
Keras is timed both as a user calls it (eager) and inside a compiled tf.function; the
ratios are convlib time / Keras time, so < 1 means convlib is faster.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "solutions"))

import numpy as np  # noqa: E402

import convlib  # noqa: E402

# (label, batch, height=width, in_channels, filters, kernel, extra Conv2D arguments)
SHAPES = [
    ("N32 32x32 C64->64", 32, 32, 64, 64, 3, {}),
    ("N8 64x64 C32->64", 8, 64, 32, 64, 3, {}),
    ("N64 16x16 C128->128", 64, 16, 128, 128, 3, {}),
    ("N16 28x28 C1->32 5x5", 16, 28, 1, 32, 5, {}),
    ("N16 32x32 C64->64 groups=8", 16, 32, 64, 64, 3, {"groups": 8}),
    ("N16 32x32 C32->32 dilation 2", 16, 32, 32, 32, 3, {"dilation_rate": 2}),
]


def median_time(fn, repeats):
    fn()  # warm-up (tf.function tracing, allocator, BLAS threads)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2 repeats, for a smoke test")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else args.repeats

    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rows = []
    for label, n, hw, c, f, k, extra in SHAPES:
        x = rng.standard_normal((n, hw, hw, c)).astype(np.float32)
        klayer = keras.layers.Conv2D(f, k, padding="same", **extra)
        clayer = convlib.Conv2D(f, k, padding="same", **extra)
        klayer.build(x.shape)
        clayer.build(x.shape)
        clayer.set_weights(klayer.get_weights())
        dy = rng.standard_normal(clayer.compute_output_shape(x.shape)).astype(np.float32)
        xt, dyt = tf.constant(x), tf.constant(dy)

        def keras_gradient():
            with tf.GradientTape() as tape:
                tape.watch(xt)
                loss = tf.reduce_sum(klayer(xt) * dyt)
            return [g.numpy() for g in tape.gradient(loss, [xt] + klayer.trainable_variables)]

        compiled_forward = tf.function(lambda: klayer(xt))

        @tf.function
        def keras_gradient_graph():
            with tf.GradientTape() as tape:
                tape.watch(xt)
                loss = tf.reduce_sum(klayer(xt) * dyt)
            return tape.gradient(loss, [xt] + klayer.trainable_variables)

        def convlib_gradient():
            clayer(x)
            return clayer.backward(dy)

        # Same answer first: a benchmark of a wrong result is meaningless.
        np.testing.assert_allclose(clayer(x), klayer(xt).numpy(), rtol=5e-4, atol=1e-4)
        t = {
            "convlib fwd": median_time(lambda: clayer(x), repeats),
            "keras fwd": median_time(lambda: klayer(xt).numpy(), repeats),
            "keras fwd (tf.function)": median_time(lambda: compiled_forward().numpy(), repeats),
            "convlib grad": median_time(convlib_gradient, repeats),
            "keras grad": median_time(keras_gradient, repeats),
            "keras grad (tf.function)": median_time(
                lambda: [g.numpy() for g in keras_gradient_graph()], repeats),
        }
        rows.append((label, t))
        print(f"  measured {label}", file=sys.stderr, flush=True)

    header = (f"{'shape':<30} {'convlib fwd':>11} {'keras fwd':>10} {'ratio':>6} "
              f"{'vs graph':>8} | {'convlib grad':>12} {'keras grad':>10} {'ratio':>6} "
              f"{'vs graph':>8}")
    print(f"\nconvlib vs Keras {keras.__version__} (TensorFlow {tf.__version__}), numpy "
          f"{np.__version__}, float32, padding='same', median of {repeats}; times in ms; "
          "ratio = convlib / Keras eager, 'vs graph' = convlib / Keras in tf.function\n")
    print(header)
    print("-" * len(header))
    fwd_ratios, grad_ratios = [], []
    for label, t in rows:
        fr = t["convlib fwd"] / t["keras fwd"]
        gr = t["convlib grad"] / t["keras grad"]
        fwd_ratios.append(fr)
        grad_ratios.append(gr)
        print(f"{label:<30} {t['convlib fwd']*1e3:>11.1f} {t['keras fwd']*1e3:>10.1f} "
              f"{fr:>6.2f} {t['convlib fwd'] / t['keras fwd (tf.function)']:>8.2f} | "
              f"{t['convlib grad']*1e3:>12.1f} {t['keras grad']*1e3:>10.1f} {gr:>6.2f} "
              f"{t['convlib grad'] / t['keras grad (tf.function)']:>8.2f}")
    print(f"\nmedian ratio: forward {statistics.median(fwd_ratios):.2f} (target <= 1.5), "
          f"gradient {statistics.median(grad_ratios):.2f} (target <= 2.0)")


if __name__ == "__main__":
    main()
