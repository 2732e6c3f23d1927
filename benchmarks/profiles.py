"""Sizes of the benchmark runs: ``smoke`` (tests), ``quick`` and ``full``.

The generator settings make the student data-limited (few training rows, 20
classes in 4 super-classes, half the rows hard), so that what the teacher
knows can matter. They were fixed before looking at the results and are the
same for every prediction; they are not tuned to make a prediction hold.
"""

from __future__ import annotations

import copy
import math

#: Root-mean-square noise of the easy/hard mixture below; every difficulty
#: spread keeps it, so only the spread of difficulty changes.
_RMS_NOISE = math.sqrt((1.0**2 + 2.5**2) / 2)


def _spread(easy):
    """(easy, hard) noise scales with the common RMS noise and given easy."""
    return [easy, math.sqrt(2 * _RMS_NOISE**2 - easy**2)]


_DATA = dict(
    n_train=1000,
    n_test=4000,
    n_features=30,
    n_superclasses=4,
    n_subclasses=5,
    class_sep=3.0,
    hard_fraction=0.5,
)

_STUDENT = dict(
    hidden_layer_sizes=[32],
    max_epochs=60,
    batch_size=128,
    lr=3e-3,
    n_iter_no_change=None,
)

_COMMON = dict(
    data=_DATA,
    student=_STUDENT,
    #: The KD setting used wherever a prediction does not vary it.
    kd=dict(alpha=0.9, temperature=2.0),
    #: Label-smoothing baseline (epsilon) and the smoothed teacher's epsilon.
    label_smoothing=0.1,
    teacher_smoothing=0.3,
    main_rho=0.6,
    rhos=[0.0, 0.6],
    #: name -> [easy_noise, hard_noise]; the first is "none", the last "wide"
    spreads={"none": _spread(_RMS_NOISE), "wide": _spread(1.0)},
    temperatures=[1.0, 4.0],
    #: trained teachers of S5 (DistilledClassifier parameters)
    n_teacher=4000,
    trained_teacher=dict(
        hidden_layer_sizes=[128], max_epochs=30, batch_size=256, lr=3e-3,
        n_iter_no_change=None,
    ),
    #: MLPClassifier teachers of S6
    overtrained_teacher=dict(
        hidden_layer_sizes=[256], alpha=0.0, max_iter=200, tol=0.0,
        n_iter_no_change=1000, learning_rate_init=3e-3,
    ),
    early_stopped_teacher=dict(
        hidden_layer_sizes=[256], alpha=0.0, max_iter=200, early_stopping=True,
        validation_fraction=0.2, n_iter_no_change=5, learning_rate_init=3e-3,
    ),
    teacher_cv=3,
    seeds=3,
    jobs=2,
    speed=dict(
        n_samples=[10_000, 100_000],
        n_classes=[10],
        n_features=32,
        hidden_layer_sizes=[100],
        batch_size=256,
        cuda_batch_size=4096,
        epochs={"10000": 10, "default": 2, "1000000": 1},
        methods=["distilled", "plain_torch", "skorch_default", "sklearn_mlp"],
        memory_fraction=0.5,
    ),
)


def _profile(**changes):
    profile = copy.deepcopy(_COMMON)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(profile.get(key), dict):
            profile[key] = {**profile[key], **value}
        else:
            profile[key] = value
    return profile


PROFILES = {
    "smoke": _profile(
        data=dict(n_train=200, n_test=300, n_features=10, n_superclasses=2,
                  n_subclasses=3),
        student=dict(hidden_layer_sizes=[8], max_epochs=3),
        n_teacher=200,
        trained_teacher=dict(hidden_layer_sizes=[16], max_epochs=3),
        overtrained_teacher=dict(hidden_layer_sizes=[16], max_iter=5),
        early_stopped_teacher=dict(hidden_layer_sizes=[16], max_iter=5),
        teacher_cv=2,
        seeds=2,
        jobs=1,
        speed=dict(n_samples=[1000], n_classes=[5], hidden_layer_sizes=[16],
                   epochs={"default": 1}),
    ),
    "quick": _profile(),
    "full": _profile(
        data=dict(n_train=2000, n_test=10_000),
        student=dict(max_epochs=80),
        rhos=[0.0, 0.3, 0.6, 0.9],
        spreads={"none": _spread(_RMS_NOISE), "mid": _spread(1.5),
                 "wide": _spread(1.0)},
        temperatures=[1.0, 2.0, 4.0, 8.0],
        n_teacher=8000,
        overtrained_teacher=dict(max_iter=300),
        early_stopped_teacher=dict(max_iter=300),
        teacher_cv=5,
        seeds=10,
        speed=dict(n_samples=[10_000, 100_000, 1_000_000], n_classes=[10, 1000]),
    ),
}


def get_profile(name, *, seeds=None):
    """A copy of the named profile, with ``seeds`` overridden if given."""
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}; got {name!r}.")
    profile = copy.deepcopy(PROFILES[name])
    profile["name"] = name
    if seeds is not None:
        profile["seeds"] = int(seeds)
    return profile
