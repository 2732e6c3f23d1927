"""Rows without hard labels: unlabelled training rows and transfer sets.

Both kinds of row train the student on the teacher's targets only. Their
hard label is :data:`NO_LABEL`, which ``torch.nn.functional.cross_entropy``
ignores (its default ``ignore_index``), so the hard-label term of the loss
sums over the labelled rows alone.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from ._batch import has_label


def labelled_mask(y, marker):
    """True for rows whose label is not ``marker`` (None: every row).

    ``marker`` is the estimator's ``unlabelled`` parameter, opt-in: with
    None every value of ``y`` is a class.
    """
    y = np.asarray(y)
    if marker is None:
        return np.ones(len(y), dtype=bool)
    if y.dtype == object:
        return np.array(
            [not (type(v) is type(marker) or isinstance(v, (int, np.integer))
                  and isinstance(marker, (int, np.integer))) or v != marker
             for v in y],
            dtype=bool,
        )
    if isinstance(marker, str):
        return y != marker if y.dtype.kind == "U" else np.ones(len(y), dtype=bool)
    if y.dtype.kind in "iuf":
        return y != marker
    return np.ones(len(y), dtype=bool)  # strings, booleans: all labelled


def fit_augmenter(augment, X, random_state):
    """Clone (or build) and fit the augmenter on the training features."""
    from .augment import check_augmenter

    augmenter = check_augmenter(augment)
    if hasattr(augmenter, "get_params"):
        augmenter = clone(augmenter)
        if "random_state" in augmenter.get_params(deep=False):
            augmenter.set_params(random_state=random_state)
    return augmenter.fit(X)


def draw(augmenter, n_rows, rng, n_features, allow_nan=False):
    """``n_rows`` synthetic rows as a float64 array, checked: finite, or
    finite and NaN when ``allow_nan`` (missing values)."""
    X_new = np.asarray(
        augmenter.sample(n_rows, random_state=rng.randint(np.iinfo(np.int32).max)),
        dtype=np.float64,
    )
    finite = np.isfinite(X_new) | (np.isnan(X_new) if allow_nan else False)
    if X_new.shape != (n_rows, n_features) or not finite.all():
        raise ValueError(
            "augment.sample(n_samples, random_state) must return a finite array "
            + ("(NaN for a missing value) " if allow_nan else "")
            + f"of shape (n_samples, n_features) = ({n_rows}, {n_features}); got "
            f"shape {X_new.shape}"
            + ("" if X_new.shape != (n_rows, n_features) else " with non-finite values")
            + "."
        )
    return X_new


class RegenerateTransferSet(Callback):
    """Replace the synthetic rows of the training data before each epoch.

    ``make(n_rows)`` returns the features and the student's target tensors
    (by input name) of ``n_rows`` fresh synthetic rows; they overwrite rows
    ``start:`` of the training dataset in place. The references to the
    teacher and the augmenter are dropped when training ends, so a fitted
    student does not carry them.
    """

    def __init__(self, make, start):
        self.make = make
        self.start = start

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if self.make is None or len(net.history) <= 1:
            return  # the first epoch uses the rows built in fit
        base = getattr(dataset_train, "dataset", dataset_train)
        n_rows = len(base) - self.start
        fresh = self.make(n_rows)
        with torch.no_grad():
            for key, value in fresh.items():
                base.tensors[key][self.start :].copy_(
                    torch.as_tensor(value).to(base.tensors[key].device)
                )

    def on_train_end(self, net, **kwargs):
        self.make = None


class LabelledRowSplit:
    """Validation split drawn from the labelled real rows only.

    Rows ``n_real:`` (the transfer set) and unlabelled rows always train.
    A row is unlabelled when its class index is :data:`NO_LABEL`, or when
    all its regression targets are NaN (see :func:`~._batch.has_label`).
    The split is stratified by class unless ``stratified=False`` (for
    regression targets).
    """

    def __init__(self, fraction, y_idx, random_state, stratified=True):
        self.fraction = fraction
        self.y_idx = np.asarray(y_idx)
        self.random_state = random_state
        self.stratified = stratified

    def __call__(self, dataset, y=None, **kwargs):
        from sklearn.model_selection import train_test_split

        labelled = has_label(self.y_idx)
        rows = np.flatnonzero(labelled)
        train, valid = train_test_split(
            rows,
            test_size=self.fraction,
            stratify=self.y_idx[rows] if self.stratified else None,
            random_state=self.random_state,
        )
        others = np.flatnonzero(~labelled)
        train = np.sort(np.concatenate([train, others]))
        return (
            torch.utils.data.Subset(dataset, train.tolist()),
            torch.utils.data.Subset(dataset, np.sort(valid).tolist()),
        )
