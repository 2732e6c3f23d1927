"""Sizes of the benchmark runs: ``smoke`` (tests), ``quick`` and ``full``.

Every setting below was fixed before any result of this design was seen and
is not tuned toward a verdict. The data are 20 classes in 4 super-classes in
30 dimensions, half the rows hard; each data setting is calibrated with
``bayes_accuracy`` to one of two regimes (0.80, noisy; 0.95, clean), so the
dials (sibling heterogeneity, spread of difficulty) move alone. ``quick``
computes every prediction for both student families at low power (3 seeds,
fewer rows, a smaller grid); ``full`` runs every cell with 10 paired seeds.

The (T, alpha) grid brackets the optima that the previous design chose at
its corner (T = 4, alpha = 0.9): T up to 8 and alpha up to 1. Arms are
chosen on 8,000 validation rows in ``full``: the standard error of one
validation accuracy near 0.8 is then 0.45 pp, below the 0.5 pp smallest
effect of interest (and paired differences between grid points, measured on
the same rows, have a smaller one).
"""

from __future__ import annotations

import copy

_FAMILIES = {
    # softmax regression
    "linear": dict(hidden_layer_sizes=[], max_epochs=40, batch_size=256, lr=1e-2,
                   n_iter_no_change=None),
    # regularised MLP: weight decay and early stopping on 10 % of its rows
    "mlp": dict(hidden_layer_sizes=[64], max_epochs=60, batch_size=256, lr=3e-3,
                weight_decay=1e-3, early_stopping=True, validation_fraction=0.1,
                n_iter_no_change=8),
}

_COMMON = dict(
    data=dict(n_features=30, n_superclasses=4, n_subclasses=5, hard_fraction=0.5,
              easy_noise=1.0, n_test=5000, n_val=8000, n_teacher=5000),
    #: regime name -> Bayes accuracy given x alone
    regimes={"noisy": 0.80, "clean": 0.95},
    main=dict(rho=0.5, spread="wide", heterogeneity=0.5),
    #: the regime of every primary contrast except S8's
    primary_regime="noisy",
    #: sibling heterogeneity dial (class relations inside a super-class)
    heterogeneities=[0.0, 0.5, 0.9],
    #: spread name -> hard_noise (easy_noise is 1): none < mid < wide
    spreads={"none": 1.0, "mid": 2.0, "wide": 4.0},
    #: training rows of the main cells and of the learning curves
    n_train=1000,
    sizes=[250, 500, 1000, 2000, 4000],
    families=_FAMILIES,
    #: every KD arm is chosen on the validation rows among these settings
    grid=dict(temperature=[1.0, 2.0, 4.0, 8.0], alpha=[0.5, 0.9, 1.0]),
    #: secondary teachers of the main setting (the Bayes teacher is primary)
    teachers={"noisy": ["hgb"]},
    curve_regimes=["noisy"],
    dkd=dict(regime="clean", heterogeneities=[0.0, 0.9]),
    geometry_regime="noisy",
    geometry_alpha=0.9,
    run_overtrained=True,
    #: self-distillation "at convergence": the family's epochs times this
    converged_epochs=5,
    teacher_params=dict(
        #: label smoothing of the smoothed teacher (S5)
        smoothing=0.2,
        #: the over-confident teacher is the Bayes posterior to this power
        overconfidence=4.0,
        smoothing_teacher=dict(hidden_layer_sizes=[128], max_epochs=60,
                               batch_size=256, lr=3e-3, early_stopping=True,
                               validation_fraction=0.1, n_iter_no_change=8),
        hgb=dict(max_iter=200, early_stopping=True),
        rf=dict(n_estimators=200, min_samples_leaf=2),
        mlp=dict(hidden_layer_sizes=[128], early_stopping=True, max_iter=300),
        overtrained=dict(hidden_layer_sizes=[128], alpha=0.0, max_iter=100,
                         tol=0.0, n_iter_no_change=1000, learning_rate_init=3e-3),
        teacher_cv=5,
    ),
    #: real tables (``--only real_levels``, not run by default): all the
    #: compression benchmark's tables when ``tables`` is None
    real=dict(tables=None, teachers=["hgb", "rf"], max_rows=3000, cv=5),
    seeds=10,
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


#: Settings whose dicts a profile updates key by key; every other setting a
#: profile names is replaced whole (so a profile can drop a regime or a spread).
_MERGED = ("data", "speed", "teacher_params")


def _profile(**changes):
    profile = copy.deepcopy(_COMMON)
    for key, value in changes.items():
        if key in _MERGED:
            profile[key] = {**profile[key], **value}
        else:
            profile[key] = value
    return profile


PROFILES = {
    "smoke": _profile(
        data=dict(n_features=12, n_superclasses=2, n_subclasses=3, n_test=200,
                  n_val=100, n_teacher=200),
        n_train=120,
        sizes=[60, 120],
        families={k: {**v, "max_epochs": 2, "hidden_layer_sizes":
                      v["hidden_layer_sizes"][:1] and [8]}
                  for k, v in _FAMILIES.items()},
        grid=dict(temperature=[1.0, 4.0], alpha=[0.9]),
        regimes={"noisy": 0.80},
        teachers={"noisy": ["hgb"]},
        dkd=dict(regime="noisy", heterogeneities=[0.0, 0.9]),
        heterogeneities=[0.0, 0.9],
        spreads={"none": 1.0, "wide": 4.0},
        converged_epochs=2,
        teacher_params=dict(
            smoothing=0.2, overconfidence=4.0,
            smoothing_teacher=dict(hidden_layer_sizes=[8], max_epochs=2),
            hgb=dict(max_iter=3), rf=dict(n_estimators=3),
            mlp=dict(hidden_layer_sizes=[8], max_iter=3),
            overtrained=dict(hidden_layer_sizes=[8], alpha=0.0, max_iter=3),
            teacher_cv=2),
        real=dict(tables=["cracker-choice"], teachers=["hgb"], max_rows=400,
                  cv=2),
        seeds=2,
        jobs=1,
        speed=dict(n_samples=[1000], n_classes=[5], hidden_layer_sizes=[16],
                   epochs={"default": 1}),
    ),
    "quick": _profile(
        data=dict(n_test=2000, n_val=2000, n_teacher=2000),
        n_train=500,
        sizes=[250, 500],
        regimes={"noisy": 0.80, "clean": 0.95},
        level_regimes=["noisy"],
        teachers={},
        grid=dict(temperature=[1.0, 4.0, 8.0], alpha=[0.5, 0.9]),
        heterogeneities=[0.0, 0.9],
        spreads={"none": 1.0, "wide": 4.0},
        curve_regimes=[],
        converged_epochs=3,
        teacher_params=dict(
            smoothing_teacher=dict(hidden_layer_sizes=[128], max_epochs=30,
                                   batch_size=256, lr=3e-3, early_stopping=True,
                                   validation_fraction=0.1, n_iter_no_change=8),
            overtrained=dict(hidden_layer_sizes=[128], alpha=0.0, max_iter=60,
                             tol=0.0, n_iter_no_change=1000,
                             learning_rate_init=3e-3),
            teacher_cv=3),
        seeds=3,
    ),
    # Sized for 2 shared CPU cores: the primaries' cells only (noisy regime
    # for the levels, clean for S8), the two ends of each dial, no secondary
    # teacher, 3-fold out-of-fold predictions; the learning curves run on
    # their own (``--only learning_curve``). The grid brackets both the old
    # corner choice (T = 4, alpha = 0.9) and the quick profile's (alpha = 0.5
    # for universe and the placebos): alpha from 0.2 to 1, T from 1 to 8.
    "full": _profile(
        grid=dict(temperature=[1.0, 4.0, 8.0], alpha=[0.2, 0.5, 0.9, 1.0]),
        teacher_params=dict(teacher_cv=3),
        jobs=3,
        level_regimes=["noisy"],
        teachers={},
        heterogeneities=[0.0, 0.9],
        spreads={"none": 1.0, "wide": 4.0},
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
