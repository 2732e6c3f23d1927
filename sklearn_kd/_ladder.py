"""``architecture="auto"``: a small ladder of students, chosen on held-out rows.

The rungs, cheapest first (multiply-adds per row, which is what a
``predict_proba`` costs):

1. ``"linear on bins"``: the piecewise-linear encoding of each feature on the
   teacher's split thresholds (quantile bins without a tree teacher) and a
   single linear layer, no hidden layer;
2. ``"perceptron"``: :class:`~sklearn_kd.MLPStudent` with
   ``hidden_layer_sizes``;
3. ``"bins + hidden layers"``: the same encoding followed by
   ``hidden_layer_sizes``.

Each rung trains on the training rows less a stratified
:data:`HOLDOUT_FRACTION`, for up to ``max_epochs``, stopped when its
loss on the held-out rows has not improved for ``n_iter_no_change`` epochs
and returned to its best epoch; it is then scored on the held-out rows by
its *fidelity*: how often its top class is the teacher's (the hard label
when the student learns from the labels only). ``"auto"`` takes the
cheapest rung whose fidelity is within 1.96 binomial standard errors of the
best one; ``"most-accurate"`` the most faithful one. The chosen student is
then trained again on every row, for the number of epochs that was best for
it (unless ``early_stopping`` holds out rows of its own).

Shorter trainings of the rungs rank them wrongly: after a quarter of
``max_epochs`` the encoding with hidden layers led the perceptron on digits,
which it trails by two points once both are trained in full.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import Bunch

#: The ``architecture`` values that choose from the ladder.
SELECTIONS = ("auto", "most-accurate")

#: Share of the rows held out to compare the rungs.
HOLDOUT_FRACTION = 0.2

#: Fewest held-out rows for a comparison; with fewer, the perceptron is
#: taken without one (its fidelity could not tell the rungs apart).
MIN_HOLDOUT = 30

#: Standard errors within which a cheaper rung counts as good as the best.
Z = 1.96


def rungs(hidden_layer_sizes, encoding):
    """The ladder: ``(name, architecture, hidden_layer_sizes)`` in order.

    ``encoding`` is the piecewise-linear architecture, ``"ple-teacher"``
    for a tree teacher whose thresholds can be read, else ``"ple"``.
    """
    return [
        ("linear on bins", encoding, ()),
        ("perceptron", "mlp", tuple(hidden_layer_sizes)),
        ("bins + hidden layers", encoding, tuple(hidden_layer_sizes)),
    ]


def holdout_split(target, seed):
    """Indices ``(train, held_out)`` of the rows of ``target`` (class indices),
    stratified when every class has at least two rows."""
    n_test = max(1, int(round(HOLDOUT_FRACTION * len(target))))
    counts = np.bincount(target)
    counts = counts[counts > 0]
    stratify = counts.min() >= 2 and n_test >= len(counts)
    splitter = (StratifiedShuffleSplit if stratify else ShuffleSplit)(
        n_splits=1, test_size=n_test, random_state=seed
    )
    return next(splitter.split(np.zeros(len(target)), target))


def margin(best, n):
    """The fidelity below ``best`` still within noise on ``n`` rows: ``Z``
    binomial standard errors, with the proportion shrunk towards 1/2 so that
    a perfect score still has a spread."""
    p = (best * n + 1) / (n + 2)
    return Z * np.sqrt(p * (1 - p) / n)


def choose(scores, n_held_out, selection):
    """The chosen rung's name, and the fidelity a rung needed to qualify.

    ``scores`` maps each rung's name to a dict with ``fidelity`` and
    ``cost``, in ladder order.
    """
    best = max(s["fidelity"] for s in scores.values())
    if selection == "most-accurate":
        bar = best
    else:
        bar = best - margin(best, n_held_out)
    qualified = [name for name, s in scores.items() if s["fidelity"] >= bar]
    # cheapest first; the ladder's order breaks ties
    order = list(scores)
    name = min(qualified, key=lambda n: (scores[n]["cost"], order.index(n)))
    return name, float(bar)


class HeldOutRows:
    """skorch ``train_split``: the first ``n_train`` rows train, the others
    validate (the ladder's held-out rows, placed last)."""

    def __init__(self, n_train):
        self.n_train = n_train

    def __call__(self, dataset, y=None, **kwargs):
        n = len(dataset)
        return (
            torch.utils.data.Subset(dataset, list(range(self.n_train))),
            torch.utils.data.Subset(dataset, list(range(self.n_train, n))),
        )


def subset(inputs, index):
    """The rows ``index`` of every training input (arrays or tensors)."""
    out = {}
    for key, value in inputs.items():
        if torch.is_tensor(value):
            out[key] = value.index_select(0, torch.as_tensor(index))
        else:
            out[key] = np.asarray(value)[index]
    return out


def run_ladder(train_rung, target, rows, hidden_layer_sizes, encoding, seed,
               selection):
    """Train every rung and choose one.

    Parameters
    ----------
    train_rung : callable
        ``train_rung(architecture, hidden_layer_sizes, train, held_out)``
        trains that student on the rows ``train`` (its stopping rule may
        watch the rows ``held_out``) and returns its predicted class indices
        on the rows ``held_out``, its number of weights and the number of
        epochs it was best at.
    target : ndarray of shape (n_samples,)
        Each row's class index to agree with (the teacher's top class).
    rows : ndarray
        The rows that may be held out (rows with a target).
    hidden_layer_sizes : tuple of int
    encoding : {"ple-teacher", "ple"}
    seed : int
    selection : {"auto", "most-accurate"}

    Returns
    -------
    choice : Bunch or None
        ``architecture``, ``hidden_layer_sizes`` and ``scores`` (by rung:
        its ``architecture``, ``hidden_layer_sizes``, ``fidelity``,
        ``cost`` in multiply-adds per row, ``fit_seconds`` of its fit
        and whether it was ``chosen``; plus ``"rule"``, what qualified it).
        None when too few rows can be held out.
    """
    train, held_out = holdout_split(target[rows], seed)
    if len(held_out) < MIN_HOLDOUT:
        return None
    train, held_out = rows[train], rows[held_out]
    ladder = rungs(hidden_layer_sizes, encoding)
    scores = {}
    for name, architecture, hidden in ladder:
        start = time.perf_counter()
        predicted, cost, epochs = train_rung(architecture, hidden, train, held_out)
        scores[name] = dict(
            architecture=architecture,
            hidden_layer_sizes=hidden,
            fidelity=float(np.mean(predicted == target[held_out])),
            cost=int(cost),
            epochs=int(epochs),
            fit_seconds=time.perf_counter() - start,
        )
    name, bar = choose(scores, len(held_out), selection)
    for rung, score in scores.items():
        score["chosen"] = rung == name
    scores["rule"] = dict(
        selection=selection, n_held_out=int(len(held_out)), fidelity_bar=bar
    )
    return Bunch(
        architecture=scores[name]["architecture"],
        hidden_layer_sizes=scores[name]["hidden_layer_sizes"],
        epochs=scores[name]["epochs"],
        scores=scores,
    )
