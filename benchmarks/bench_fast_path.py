"""Where the im2col path spends its time: chapter 13's steps, one by one, next to Keras.

    python benchmarks/bench_fast_path.py [--repeats 5] [--quick]

For each shape (padding "same", stride 1 unless stated) the reference convlib in solutions/
is timed step by step: window_view and strided_dilated_windows (views: next to nothing),
im2col's one copy, columns_times_kernel (the BLAS products), and the whole conv.conv2d;
then keras.ops.conv on the same input (eager, after a warm-up call), and chapter 00's loop
(correlate.conv2d_valid) on the smallest shapes only. Times are medians in milliseconds; the
column matrix's size is printed beside them (the chapter's written question).
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

from convlib import conv, correlate  # noqa: E402
from convlib.padding import pad_spatial, padding_amounts  # noqa: E402

# (label, batch, side, in_channels, filters, kernel, strides, groups)
SHAPES = [
    ("N8 32x32 C16->16", 8, 32, 16, 16, 3, 1, 1),
    ("N32 56x56 C64->64", 32, 56, 64, 64, 3, 1, 1),
    ("N32 56x56 C64->64 stride 2", 32, 56, 64, 64, 3, 2, 1),
    ("N16 28x28 C1->32 7x7", 16, 28, 1, 32, 7, 1, 1),
    ("N16 32x32 C64->64 groups=8", 16, 32, 64, 64, 3, 1, 8),
    ("N16 32x32 C64 depthwise", 16, 32, 64, 64, 3, 1, 64),
]
LOOP_LIMIT = 8 * 32 * 32 * 16          # input values up to which the Python loops are timed


def median_ms(fn, repeats):
    fn()                                # warm-up: allocator, BLAS threads, TF's graph
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 repeat, two shapes")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    shapes = SHAPES[:1] + SHAPES[3:4] if args.quick else SHAPES

    import keras

    rng = np.random.default_rng(0)
    header = (f"{'shape':30} {'cols MB':>8} {'views':>7} {'copy':>7} {'product':>8} "
              f"{'conv2d':>8} {'keras':>7} {'loops':>8}")
    print(header)
    print("-" * len(header))
    for label, n, side, c, f, k, s, g in shapes:
        x = rng.standard_normal((n, side, side, c)).astype("float32")
        kernel = rng.standard_normal((k, k, c // g, f)).astype("float32")
        pads = padding_amounts((side, side), (k, k), (s, s), "same", (1, 1))
        xp = pad_spatial(x, pads, "channels_last")
        views = median_ms(lambda: conv.strided_dilated_windows(
            conv.window_view(xp, (k, k)), (s, s), (1, 1), g), repeats)
        view = conv.strided_dilated_windows(conv.window_view(xp, (k, k)), (s, s), (1, 1), g)
        copy = median_ms(lambda: np.ascontiguousarray(view), repeats)
        cols = np.ascontiguousarray(view)
        product = median_ms(lambda: conv.columns_times_kernel(cols, kernel), repeats)
        whole = median_ms(lambda: conv.conv2d(x, kernel, s, "same", 1, g), repeats)
        theirs = median_ms(lambda: keras.ops.convert_to_numpy(
            keras.ops.conv(x, kernel, strides=s, padding="same")), repeats)
        loops = "-"
        if s == 1 and x.size <= LOOP_LIMIT and g == 1:
            loops = f"{median_ms(lambda: correlate.conv2d_valid(xp, kernel), 1):8.0f}"
        print(f"{label:30} {cols.nbytes / 1e6:8.1f} {views:7.3f} {copy:7.1f} {product:8.1f} "
              f"{whole:8.1f} {theirs:7.1f} {loops:>8}")


if __name__ == "__main__":
    main()
