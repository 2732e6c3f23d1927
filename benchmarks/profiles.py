"""Sizes of the benchmark runs: ``smoke`` (tests), ``quick`` and ``full``.

Every setting below was fixed before any result of this design was seen and
is not tuned toward a verdict. The data are 20 classes in 4 super-classes in
30 dimensions, half the rows hard; each data setting is calibrated with
``bayes_accuracy`` to one of two regimes (0.80, noisy; 0.95, clean), so the
dials (class similarity ``rho``, spread of difficulty) move alone. ``quick``
is a short, low-powered run of a subset of the cells; ``full`` runs every
cell with 10 paired seeds.
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
              easy_noise=1.0, n_test=5000, n_val=1000, n_teacher=5000),
    #: regime name -> Bayes accuracy given x alone
    regimes={"noisy": 0.80, "clean": 0.95},
    main=dict(rho=0.5, spread="wide"),
    rhos=[0.0, 0.5, 0.9],
    #: spread name -> hard_noise (easy_noise is 1): none < mid < wide
    spreads={"none": 1.0, "mid": 2.0, "wide": 4.0},
    #: training rows of the main cells and of the learning curves
    n_train=1000,
    sizes=[250, 500, 1000, 2000, 4000],
    families=_FAMILIES,
    #: every KD arm is chosen on the validation rows among these settings
    grid=dict(temperature=[1.0, 2.0, 4.0], alpha=[0.5, 0.9]),
    #: cells: the teachers of the main setting, per regime, and the regimes
    #: of each experiment
    teachers={"noisy": ["bayes", "oracle", "hgb", "rf", "mlp"],
              "clean": ["bayes", "oracle"]},
    dial_regimes=["noisy", "clean"],
    curve_regimes=["noisy"],
    dkd=dict(regime="clean", rhos=[0.0, 0.5, 0.9]),
    geometry_regime="noisy",
    run_overtrained=True,
    teacher_params=dict(
        smoothing=0.3,
        hgb=dict(max_iter=200, early_stopping=True),
        rf=dict(n_estimators=200, min_samples_leaf=2),
        mlp=dict(hidden_layer_sizes=[128], early_stopping=True, max_iter=300),
        overtrained=dict(hidden_layer_sizes=[128], alpha=0.0, max_iter=100,
                         tol=0.0, n_iter_no_change=1000, learning_rate_init=3e-3),
        teacher_cv=5,
    ),
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
        teachers={"noisy": ["bayes", "oracle", "hgb", "rf", "mlp"]},
        dial_regimes=["noisy"],
        dkd=dict(regime="noisy", rhos=[0.0, 0.9]),
        rhos=[0.0, 0.5],
        spreads={"none": 1.0, "wide": 4.0},
        teacher_params=dict(
            smoothing=0.3, hgb=dict(max_iter=3), rf=dict(n_estimators=3),
            mlp=dict(hidden_layer_sizes=[8], max_iter=3),
            overtrained=dict(hidden_layer_sizes=[8], alpha=0.0, max_iter=3),
            teacher_cv=2),
        seeds=2,
        jobs=1,
        speed=dict(n_samples=[1000], n_classes=[5], hidden_layer_sizes=[16],
                   epochs={"default": 1}),
    ),
    "quick": _profile(
        data=dict(n_test=2000, n_val=500, n_teacher=2000),
        n_train=500,
        sizes=[250, 500],
        teachers={"noisy": ["bayes", "oracle"], "clean": ["bayes"]},
        dial_regimes=["noisy"],
        dkd=dict(regime="clean", rhos=[0.0, 0.9]),
        rhos=[0.0, 0.5, 0.9],
        spreads={"none": 1.0, "wide": 4.0},
        run_overtrained=False,
        seeds=3,
    ),
    "full": _profile(
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
