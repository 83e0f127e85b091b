"""Standardising Conv2D's shape-like arguments, with Keras's rules and clear errors.

Keras accepts `kernel_size=3` as shorthand for `(3, 3)`; the same holds for `strides` and
`dilation_rate`. Everything else (a float, a string, three numbers, a zero) is refused up
front with a message that quotes what was received, so that a mistake never surfaces later
as an obscure numpy error.
"""
import numbers

DATA_FORMATS = ("channels_last", "channels_first")
PADDINGS = ("valid", "same")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def standardize_pair(value, name):
    """`3` -> `(3, 3)`; `(2, 3)` -> `(2, 3)`; anything else raises ValueError."""
    if _is_int(value):
        pair = (int(value), int(value))
    else:
        try:
            items = tuple(value)
        except TypeError:
            items = None
        if items is None or len(items) != 2 or not all(_is_int(v) for v in items):
            raise ValueError(
                f"`{name}` must be an integer or a tuple/list of 2 integers. "
                f"Received: {name}={value!r}"
            )
        pair = (int(items[0]), int(items[1]))
    if min(pair) <= 0:
        raise ValueError(f"`{name}` values must all be > 0. Received: {name}={value!r}")
    return pair


def standardize_positive_int(value, name):
    if not _is_int(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def standardize_padding(value):
    if not isinstance(value, str) or value.lower() not in PADDINGS:
        raise ValueError(
            f"`padding` must be one of {PADDINGS} (case-insensitive). Received: padding={value!r}"
        )
    return value.lower()


def standardize_data_format(value):
    """None means Keras's default image data format, "channels_last"."""
    if value is None:
        return "channels_last"
    if not isinstance(value, str) or value.lower() not in DATA_FORMATS:
        raise ValueError(
            f"`data_format` must be one of {DATA_FORMATS} or None. "
            f"Received: data_format={value!r}"
        )
    return value.lower()
