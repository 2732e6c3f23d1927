"""Hypothesis strategies shared by the property tests.

Shapes come first (``shapes``), arrays are built over them with ``flatmap``.
Everything is float64 NumPy; tests convert to torch themselves.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import softmax

MIN_CLASSES, MAX_CLASSES = 2, 50
MAX_BATCH = 6
MAX_ABS_LOGIT = 50.0
MIN_T, MAX_T = 0.05, 100.0

# Logit scales: 0 gives exactly uniform rows, 50 gives teacher rows down to
# e^-100 (near one-hot), 400 gives gaps beyond float64 range (exact zeros).
_TEACHER_SCALES = (0.0, 0.1, 1.0, 5.0, 20.0, 50.0)
_TEACHER_SCALES_WITH_UNDERFLOW = _TEACHER_SCALES + (400.0,)


def n_classes():
    return st.integers(MIN_CLASSES, MAX_CLASSES)


def batch_sizes():
    return st.integers(1, MAX_BATCH)


def shapes():
    """``(n_samples, n_classes)`` pairs."""
    return st.tuples(batch_sizes(), n_classes())


def alphas():
    return st.floats(0.0, 1.0)


def temperatures(min_value=MIN_T, max_value=MAX_T):
    return st.one_of(
        st.sampled_from([min_value, 1.0, max_value]),
        st.floats(min_value, max_value),
    )


def _unit_floats():
    return st.floats(-1.0, 1.0, allow_subnormal=False)


def logits(shape, max_abs=MAX_ABS_LOGIT):
    """Student logits in ``[-max_abs, max_abs]``, often at the extremes."""
    scales = st.sampled_from(sorted({0.0, 1.0, 5.0, max_abs}))
    return st.tuples(scales, arrays(np.float64, shape, elements=_unit_floats())).map(
        lambda pair: pair[0] * pair[1]
    )


@st.composite
def probabilities(draw, shape, *, zeros=True, scales=None):
    """Probability rows ``softmax(scale * u)``, ``u`` in ``[-1, 1]``.

    With ``zeros=True`` some entries are masked to exactly 0 (every row keeps
    at least one positive entry) and very large scales make entries underflow
    to 0; ``zeros=False`` keeps every entry at least about ``e^-100 / K``.
    Rows range from exactly uniform (scale 0) to near one-hot and one-hot.
    """
    n, k = shape
    if scales is None:
        scales = _TEACHER_SCALES_WITH_UNDERFLOW if zeros else _TEACHER_SCALES
    scale = draw(st.sampled_from(scales))
    u = draw(arrays(np.float64, shape, elements=_unit_floats()))
    v = scale * u
    if zeros:
        mask = draw(arrays(np.bool_, shape))
        keep = draw(arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
        mask[np.arange(n), keep] = False
        v = np.where(mask, -np.inf, v)
    return softmax(v, axis=1)


def labels(proba):
    """Class indices for ``proba``: its argmax, any class, or a zero class."""
    n, k = proba.shape
    argmax = st.just(np.argmax(proba, axis=1))
    anything = arrays(np.int64, (n,), elements=st.integers(0, k - 1))
    return st.one_of(argmax, anything)


def teacher_and_labels(shape, *, zeros=True, scales=None):
    """``(q, y)`` over ``shape``."""
    return probabilities(shape, zeros=zeros, scales=scales).flatmap(
        lambda q: st.tuples(st.just(q), labels(q))
    )


def kd_batches(*, zeros=True, max_abs_logit=MAX_ABS_LOGIT, teacher_scales=None):
    """``(z, q, y)``: student logits, teacher probabilities, labels."""
    return shapes().flatmap(
        lambda shape: st.tuples(
            logits(shape, max_abs_logit),
            teacher_and_labels(shape, zeros=zeros, scales=teacher_scales),
        ).map(lambda t: (t[0], t[1][0], t[1][1]))
    )


def labelled_teachers():
    """``(q, y)`` over any shape."""
    return shapes().flatmap(teacher_and_labels)
