"""``architecture="auto"``: a small ladder of students, chosen on held-out rows.

The rungs, usually cheapest first (multiply-adds per row, which is what a
``predict_proba`` costs; the rule below reads each rung's actual count):

1. ``"linear on bins"``: the piecewise-linear encoding of each feature on the
   teacher's split thresholds (quantile bins without a tree teacher) and a
   single linear layer, no hidden layer;
2. ``"narrow perceptron"``: :class:`~sklearn_kd.MLPStudent` with hidden
   layers a quarter as wide as ``hidden_layer_sizes`` (at least 8 units;
   this rung and rung 4 are left out when that is ``hidden_layer_sizes``
   itself). Its first layer dominates a ``predict_proba``, so it predicts
   three to four times faster than the perceptron;
3. ``"perceptron"``: :class:`~sklearn_kd.MLPStudent` with
   ``hidden_layer_sizes``;
4. ``"bins + slim hidden layers"``: the same encoding followed by hidden
   layers an eighth as wide as ``hidden_layer_sizes`` (at least 8 units;
   left out when that is the narrow width). The encoding already gives
   each feature its own piecewise-linear shape, so the hidden layer has
   only the features' interactions to model: on two binary tables of
   5,000 rows, students of 8, 12, 16 and 25 units on the encoding (with
   the transfer set) had test accuracies within 0.9 points of one another
   (means over three seeds: 0.744 to 0.753 on STAR, 0.782 to 0.783 on
   males), while the first layer costs ``n_bins`` multiply-adds per unit;
5. ``"bins + narrow hidden layers"``: the same encoding followed by the
   narrow widths, several times faster than the next rung;
6. ``"bins + hidden layers"``: the same encoding followed by
   ``hidden_layer_sizes``.

Under ``"auto"`` the encodings have at most :data:`AUTO_MAX_BINS` bins
per logit beyond the first (fewer bins per feature on a table of many
features): what an encoded student's prediction costs grows with its
bins.

Each rung trains on the training rows less a stratified
:data:`HOLDOUT_FRACTION`, for up to ``max_epochs``, stopped when its
loss on the held-out rows has not improved for ``n_iter_no_change`` epochs
and returned to its best epoch. It is then scored on the held-out rows by
its *log-loss on their hard labels* (a regressor's rung by the squared
error of its standardised predictions); its accuracy (R²) there and its
*fidelity* (how often its top class is the teacher's; R² against the
teacher's predictions) are reported beside. ``"auto"``
takes the cheapest rung whose log-loss exceeds the best rung's by less than
:data:`Z` standard errors of their paired per-row difference (or than
:data:`MIN_ALLOWANCE`, when that is larger);
``"most-accurate"`` the rung of lowest log-loss. The chosen student is then
trained again on every row, for the number of epochs that was best for it
(unless ``early_stopping`` holds out rows of its own).

Why the labels and not the teacher: a student built like the teacher
copies its mistakes. On digits the encodings on a forest's thresholds or on
quantile bins agreed with the forest on 98 % of the held-out rows against
96 to 97 % for the perceptron, and had the lower log-loss against the
forest's probabilities, yet were 2 to 3 points less accurate on the test
rows, where the perceptron matched the forest. Why paired log-losses and
not accuracies: on 200 held-out rows, 1.96 binomial standard errors of an
accuracy near 0.65 are 6.6 points, and the perceptron passed for as good as
the encoding with a hidden layer that was 6 points more accurate on the
test rows (diamonds); the per-row losses of two students on the same rows
differ far less than the losses themselves vary.

With ``max_weights``, a rung of more weights is not trained; it is
reported as skipped, and the rule chooses among the others.

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

#: The narrow rung's widths are those of ``hidden_layer_sizes`` divided by
#: this factor, and at least :data:`MIN_NARROW_WIDTH`.
NARROW_FACTOR = 4
MIN_NARROW_WIDTH = 8
#: The slim encoded rung's widths: ``hidden_layer_sizes`` divided by this
#: factor, and at least :data:`MIN_NARROW_WIDTH`.
SLIM_FACTOR = 8

#: Standard errors of the paired per-row difference of log-loss within
#: which a cheaper rung counts as good as the best.
Z = 1.96

#: The least allowance ``"auto"`` gives (mean excess loss per held-out row,
#: in nats, or in squared standardised units for a regressor). When every
#: rung is nearly perfect, the per-row differences are tiny and so is their
#: standard error: on a table with a feature that gives the class away, all
#: five rungs scored log-losses of 0.0006 to 0.003 and 1.96 standard errors
#: came to 0.0002, which kept the widest student (20 times the multiply-adds
#: of the narrow perceptron) for a difference no prediction shows.
MIN_ALLOWANCE = 0.005


#: The most bins ``"auto"`` gives an encoding, per logit beyond the first
#: of a classifier (per output of a regressor). An encoded student's
#: prediction does four element-wise passes per bin and a product with its
#: bins, so its cost grows with them: on 1,000 rows of a binary table, timed
#: between calls of a default histogram gradient boosting teacher (6.5 to
#: 6.9 ms), a student of 12 hidden units took 219 microseconds on 80 bins,
#: 374 on 159, 578 on 237 and 952 on 476 (30, 18, 12 and 7 times faster
#: than the teacher).
AUTO_MAX_BINS = 96


def within_bin_budget(bins_of, bins, n_bins, budget):
    """Bin edges with at most ``budget`` bins in all (or 2 per feature).

    ``bins`` are ``bins_of(n_bins)``: the edges of each feature at up to
    ``n_bins`` bins each. While they hold more than ``budget`` bins, they
    are made again by ``bins_of`` with fewer bins per feature (a feature
    with fewer distinct values keeps its fewer bins).
    """
    total = sum(len(edges) - 1 for edges in bins)
    while total > budget and n_bins > 2:
        # in proportion first, then one bin fewer at a time
        n_bins = max(2, min(n_bins - 1, n_bins * budget // total))
        bins = bins_of(n_bins)
        total = sum(len(edges) - 1 for edges in bins)
    return bins


def rungs(hidden_layer_sizes, encoding):
    """The ladder: ``(name, architecture, hidden_layer_sizes)`` in order.

    ``encoding`` is the piecewise-linear architecture, ``"ple-teacher"``
    for a tree teacher whose thresholds can be read, else ``"ple"``.
    """
    hidden = tuple(hidden_layer_sizes)
    narrow = narrow_layers(hidden)
    slim = narrow_layers(hidden, SLIM_FACTOR)
    ladder = [("linear on bins", encoding, ())]
    if narrow != hidden:
        ladder.append(("narrow perceptron", "mlp", narrow))
    ladder.append(("perceptron", "mlp", hidden))
    if slim != narrow:
        ladder.append(("bins + slim hidden layers", encoding, slim))
    if narrow != hidden:
        ladder.append(("bins + narrow hidden layers", encoding, narrow))
    ladder.append(("bins + hidden layers", encoding, hidden))
    return ladder


def narrow_layers(hidden_layer_sizes, factor=NARROW_FACTOR):
    """Each width of ``hidden_layer_sizes`` divided by ``factor`` (a
    quarter), at least :data:`MIN_NARROW_WIDTH` (and at most the width
    itself)."""
    return tuple(
        min(h, max(MIN_NARROW_WIDTH, h // factor)) for h in hidden_layer_sizes
    )


def holdout_split(target, seed, task="classification"):
    """Indices ``(train, held_out)`` of the rows of ``target``: for class
    indices, stratified when every class has at least two rows."""
    n_test = max(1, int(round(HOLDOUT_FRACTION * len(target))))
    stratify = False
    if task == "classification":
        counts = np.bincount(target)
        counts = counts[counts > 0]
        stratify = counts.min() >= 2 and n_test >= len(counts)
    splitter = (StratifiedShuffleSplit if stratify else ShuffleSplit)(
        n_splits=1, test_size=n_test, random_state=seed
    )
    return next(splitter.split(np.zeros(len(target)), target))


def log_losses(logits, target_proba):
    """Each row's cross-entropy ``-sum(q log p)`` between ``target_proba``
    and the softmax of ``logits``."""
    logits = np.asarray(logits, dtype=np.float64)
    log_p = logits - logits.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return -(np.asarray(target_proba, dtype=np.float64) * log_p).sum(axis=1)


def squared_errors(outputs, target):
    """Each row's squared error, averaged over the outputs."""
    diff = np.asarray(outputs, dtype=np.float64) - np.asarray(target).reshape(
        len(target), -1
    )
    return (diff * diff).mean(axis=1)


def r2(outputs, target):
    """The coefficient of determination of ``outputs`` against ``target``,
    averaged over the outputs (None when ``target`` is constant)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64).reshape(outputs.shape)
    total = ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    if not (total > 0).all():
        return None
    return float(np.mean(1.0 - ((target - outputs) ** 2).sum(axis=0) / total))


def _scores(outputs, target, reference, task):
    """A rung's per-row losses on the held-out rows and its reported
    scores."""
    if task == "classification":
        labels = np.eye(outputs.shape[1])[target]
        top = outputs.argmax(axis=1)
        return log_losses(outputs, labels), dict(
            accuracy=float(np.mean(top == target)),
            fidelity=None if reference is None
            else float(np.mean(top == reference)),
        )
    return squared_errors(outputs, target), dict(
        r2=r2(outputs, target),
        fidelity=None if reference is None else r2(outputs, reference),
    )


def choose(losses, costs, selection):
    """The chosen rung, and each rung's excess loss over the best one with
    its allowance.

    Parameters
    ----------
    losses : dict of str to ndarray of shape (n_held_out,)
        Each rung's per-row log-loss on the same held-out rows, in ladder
        order.
    costs : dict of str to int
        Each rung's multiply-adds per row.
    selection : {"auto", "most-accurate"}

    Returns
    -------
    name : str
    excess : dict of str to tuple of float
        ``(mean excess loss over the best rung, allowance)``: a rung
        qualifies when the first is at most the second (``Z`` standard
        errors of the paired difference, at least :data:`MIN_ALLOWANCE`,
        under ``"auto"``; 0 under ``"most-accurate"``).
    """
    best = min(losses, key=lambda n: losses[n].mean())
    excess = {}
    for name, loss in losses.items():
        diff = loss - losses[best]
        n = len(diff)
        se = diff.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
        allowance = (
            0.0 if selection == "most-accurate" else max(Z * se, MIN_ALLOWANCE)
        )
        excess[name] = (float(diff.mean()), float(allowance))
    qualified = [n for n, (d, a) in excess.items() if d <= a]
    order = list(losses)  # the ladder's order breaks ties of cost
    name = min(qualified, key=lambda n: (costs[n], order.index(n)))
    return name, excess


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


def over_budget(counts, max_weights):
    """The rungs of ``counts`` (weights by rung) that ``max_weights``
    excludes; a ValueError when it excludes every one."""
    if max_weights is None:
        return set()
    over = {name for name, count in counts.items() if count > max_weights}
    if len(over) == len(counts):
        smallest = min(counts, key=counts.get)
        raise ValueError(
            f"No student of the ladder fits max_weights={max_weights}: the "
            f"smallest, {smallest!r}, has {counts[smallest]} weights. Pass a "
            "smaller hidden_layer_sizes or n_bins, or a larger max_weights."
        )
    return over


def run_ladder(train_rung, target, rows, hidden_layer_sizes, encoding, seed,
               selection, reference=None, task="classification",
               max_weights=None, count_weights=None, count_cost=None):
    """Train every rung and choose one.

    Parameters
    ----------
    train_rung : callable
        ``train_rung(architecture, hidden_layer_sizes, train, held_out)``
        trains that student on the rows ``train`` (its stopping rule may
        watch the rows ``held_out``) and returns its outputs on the rows
        ``held_out`` (logits, or standardised predictions), its number of
        weights and the number of epochs it was best at.
    target : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Each row's class index, or its standardised regression targets.
    rows : ndarray
        The rows that may be held out: the labelled ones.
    hidden_layer_sizes : tuple of int
    encoding : {"ple-teacher", "ple"}
    seed : int
    selection : {"auto", "most-accurate"}
    reference : ndarray, default=None
        The teacher's answer on each row, for the reported fidelity: its top
        class, or its standardised predictions.
    task : {"classification", "regression"}, default="classification"
    max_weights : int, default=None
        The most weights a rung may have; the others are not trained.
    count_weights : callable, default=None
        ``count_weights(architecture, hidden_layer_sizes)``: the number of
        weights of that student, before training; needed with
        ``max_weights``.
    count_cost : callable, default=None
        ``count_cost(architecture, hidden_layer_sizes)``: what one row of
        that student's prediction costs, in multiply-adds (element-wise
        steps such as an encoding's clamps counted at their measured
        price, see :func:`~sklearn_kd._inference.prediction_cost`); the
        rule's cost. Without it, the cost ``train_rung`` returns.

    Returns
    -------
    choice : Bunch or None
        ``architecture``, ``hidden_layer_sizes``, ``epochs`` and ``scores``
        (by rung: its ``architecture``, ``hidden_layer_sizes``, its loss
        on the held-out rows' hard targets (``log_loss`` for a classifier,
        ``squared_error`` of the standardised targets for a regressor),
        its ``accuracy`` (``r2``) there and its ``fidelity`` to the
        teacher (agreement with its top class, or R² against its
        predictions; None without a teacher), ``excess_loss`` over the best
        rung and the ``allowance`` it had, ``cost`` in multiply-adds per
        predicted row, ``n_weights``, ``epochs``, ``fit_seconds`` and
        whether it was ``chosen``; a rung over ``max_weights`` has its
        ``architecture``, ``hidden_layer_sizes``, ``cost``, ``n_weights``,
        ``chosen=False`` and ``skipped``
        only; plus ``"rule"``: the ``selection``, ``n_held_out`` and
        ``max_weights``). None when too few rows can be held out.

    Raises
    ------
    ValueError
        When no rung fits ``max_weights``; nothing has been trained.
    """
    ladder = rungs(hidden_layer_sizes, encoding)
    counts, predict_costs = {}, {}
    if max_weights is not None:
        counts = {name: int(count_weights(architecture, hidden))
                  for name, architecture, hidden in ladder}
    over = over_budget(counts, max_weights)
    train, held_out = holdout_split(target[rows], seed, task)
    if len(held_out) < MIN_HOLDOUT:
        return None
    if count_cost is not None:
        predict_costs = {name: int(count_cost(architecture, hidden))
                         for name, architecture, hidden in ladder}
    train, held_out = rows[train], rows[held_out]
    loss_name = "log_loss" if task == "classification" else "squared_error"
    scores, losses, costs = {}, {}, {}
    for name, architecture, hidden in ladder:
        if name in over:
            scores[name] = dict(
                architecture=architecture,
                hidden_layer_sizes=hidden,
                cost=predict_costs.get(name, counts[name]),
                n_weights=counts[name],
                skipped="over max_weights",
            )
            continue
        start = time.perf_counter()
        outputs, weights, epochs = train_rung(architecture, hidden, train, held_out)
        cost = predict_costs.get(name, weights)
        outputs = np.asarray(outputs)
        losses[name], reported = _scores(
            outputs,
            target[held_out],
            None if reference is None else reference[held_out],
            task,
        )
        costs[name] = int(cost)
        scores[name] = dict(
            architecture=architecture,
            hidden_layer_sizes=hidden,
            **{loss_name: float(losses[name].mean())},
            **reported,
            cost=int(cost),
            n_weights=int(weights),
            epochs=int(epochs),
            fit_seconds=time.perf_counter() - start,
        )
    name, excess = choose(losses, costs, selection)
    for rung, score in scores.items():
        if rung in excess:
            score["excess_loss"], score["allowance"] = excess[rung]
        score["chosen"] = rung == name
    scores["rule"] = dict(selection=selection, n_held_out=int(len(held_out)),
                          max_weights=max_weights)
    return Bunch(
        architecture=scores[name]["architecture"],
        hidden_layer_sizes=scores[name]["hidden_layer_sizes"],
        epochs=scores[name]["epochs"],
        scores=scores,
    )
