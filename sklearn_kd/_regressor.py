"""DistilledRegressor: distil any scikit-learn regressor into a PyTorch
student.

The fit path is shared with :class:`~sklearn_kd.DistilledClassifier` (see
:mod:`sklearn_kd._base`); this module holds what is a regressor's own: the
targets, standardised for training and restored at prediction, the
teacher's predictions as the student's soft targets, and the loss
``(1 - alpha) * L(y, f) + alpha * L(t, f)``.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._base import SHARED_CONSTRAINTS, SHARED_DOCS, BaseDistilled
from ._batch import TEACHER
from ._checks import native_threads
from ._docstrings import fill_doc
from ._fitted import REGRESSOR_ATTRIBUTES, register
from ._teacher_step import TeacherStep, check_regressor_teacher, check_teacher_pred

#: The losses a DistilledRegressor trains with.
REGRESSION_LOSSES = ("squared_error", "huber")

@register
@fill_doc(**SHARED_DOCS)
class DistilledRegressor(RegressorMixin, BaseDistilled):
    """Distil a teacher's ``predict`` into a PyTorch student network.

    The student, a small neural network trained by skorch, minimises

    ``(1 - alpha) * L(y, f) + alpha * L(t, f)``

    over the training rows, where ``f`` is the student's prediction, ``y``
    the target and ``t`` the teacher's prediction, and ``L`` the squared
    error (halved) or the Huber loss, averaged over the outputs. Targets
    and teacher predictions are standardised with the training targets'
    mean and standard deviation before training, and predictions come back
    in the user's units. The teacher is any scikit-learn regressor with
    ``predict`` (unfitted, a :class:`~sklearn.frozen.FrozenEstimator`, or a
    :class:`~sklearn.pipeline.Pipeline`), or precomputed predictions passed
    to :meth:`fit`. Its predictions are computed once per fit.

    Read more in the :ref:`User Guide <regression>`.

    Parameters
    ----------
    teacher : estimator or None, default=None
        The teacher, a regressor. An estimator with ``fit`` and ``predict``
        is cloned and fitted on the training rows; a ``FrozenEstimator`` is
        used as it is (never refitted). A classifier is refused. ``None``
        requires ``teacher_pred`` in :meth:`fit`, unless ``alpha=0``.

    alpha : float, default=0.5
        Weight of the teacher term in [0, 1]; 0 fits the targets alone, 1
        the teacher's predictions alone.

    loss : {"squared_error", "huber"}, default="squared_error"
        ``L``: half the squared error, or the Huber loss with
        ``huber_delta``, on standardised targets.

    huber_delta : float, default=1.0
        Where the Huber loss turns from quadratic to linear, in standard
        deviations of the training targets.

    teacher_cv : "auto", int, cross-validation generator or None, \
default="auto"
        Where the teacher's predictions on the training rows come from.
        None: the teacher predicts the rows it was fitted on. An integer or
        splitter: out-of-fold predictions (``cross_val_predict``), which
        keep a teacher that fits its training rows closely from handing
        over the targets themselves; it needs an unfitted teacher and costs
        one fit per fold. ``"auto"``: out-of-bag predictions for an unfitted
        bagging ensemble with ``bootstrap=True`` (``oob_prediction_``, at no
        extra fit), None otherwise.

    module : torch.nn.Module instance or class, default=None
        The student, returning one value per output. A class is
        instantiated as ``module(n_features, n_outputs)``; an instance is
        deep-copied at fit. ``None`` builds the student ``architecture``
        names, which standardises its inputs; custom modules receive the
        raw features and learn standardised targets.

    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the hidden layers of the built-in student.

    activation : {"relu", "tanh", "logistic", "gelu"}, default="relu"
        Non-linearity of the built-in student.

    {training_schedule}

    optimizer : {"adam", "adamw", "sgd"}, torch.optim.Optimizer class or \
functools.partial of one, default="adam"
        The optimiser; its arguments go in a :func:`functools.partial`.

    weight_decay : float, default=0.0
        L2 penalty passed to the optimiser.

    early_stopping : bool, default=False
        If True, hold out ``validation_fraction`` of the rows, stop when the
        validation loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and restore the best weights. If False, stop when the
        training loss stalls likewise.

    {stopping_rule}

    callbacks : list of skorch callbacks or (name, callback) tuples, \
default=None
        Extra skorch callbacks, deep-copied at fit. Those that read the
        validation rows need ``early_stopping=True``.

    device : str or torch.device, default="cpu"
        Where the student trains, e.g. ``"cuda"``.

    memory : str, joblib.Memory or None, default=None
        Cache of the teacher's predictions (and fitted teacher), keyed by
        teacher, data and ``teacher_cv``.

    augment : None, "munge", "gaussian" or object, default=None
        Transfer set: synthetic rows near the training rows, labelled by
        the fitted teacher, on which the student learns the teacher's
        predictions only (``L(t, f)`` with weight ``alpha``). As for
        :class:`~sklearn_kd.DistilledClassifier`; needs a ``teacher`` and
        ``alpha > 0``.

    augment_size : float, default=10
        Synthetic rows per training row.

    augment_regenerate : bool, default=False
        Draw and label a fresh transfer set before every epoch.

    architecture : {"auto", "most-accurate", "mlp", "resnet", "ple", \
"ple-tree", "ple-teacher", "periodic"}, default="auto"
        The built-in student, as for
        :class:`~sklearn_kd.DistilledClassifier`. ``"auto"`` chooses from
        the same ladder, scoring each student on held-out rows by the
        squared error of its standardised predictions; ``"ple-teacher"``
        places the bins on the split thresholds of a tree-ensemble teacher
        (gradient boosting, forests).

    {bins_and_budget}

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.

    n_threads : int or None, default=None
        torch threads used by ``fit`` and ``predict``; see
        :class:`~sklearn_kd.DistilledClassifier`.

    verbose : int, default=0
        0 is silent; 1 prints skorch's per-epoch table.

    Attributes
    ----------
    n_outputs_ : int
        Number of outputs (columns of ``y``).
    {feature_attributes}
    teacher_ : estimator or None
        The fitted (or frozen) teacher; None with ``teacher_pred``.
    student_ : skorch.NeuralNet
        The trained student network; ``student_.module_`` is the module.
        It predicts standardised targets.
    {history_attributes}
    target_mean_ : ndarray of shape (n_outputs_,)
        Mean of each training target.
    target_scale_ : ndarray of shape (n_outputs_,)
        Standard deviation of each training target (1 for a constant one):
        ``predict`` returns ``student output * target_scale_ +
        target_mean_``.
    architecture_ : str or None
        The built-in student that was trained.
    architecture_scores_ : dict or None
        For ``"auto"`` and ``"most-accurate"``: by student of the ladder,
        its ``squared_error`` and ``r2`` on the held-out rows (standardised
        targets), its ``fidelity`` (R² against the teacher's predictions),
        ``excess_loss``, ``allowance``, ``cost``, ``n_weights``, ``epochs``,
        ``fit_seconds`` and whether it was ``chosen``; a student over
        ``max_weights`` has ``skipped="over max_weights"`` instead of
        scores.
    encoder_ : object or None
        The student's encoding of the string and categorical columns of a
        DataFrame ``X``; None without such columns.

    See Also
    --------
    DistilledClassifier : The same for a classifier's probabilities.
    sklearn.neural_network.MLPRegressor : A perceptron on the targets alone.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from sklearn_kd import DistilledRegressor
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> reg = DistilledRegressor(
    ...     HistGradientBoostingRegressor(max_iter=50, random_state=0),
    ...     max_epochs=30, hidden_layer_sizes=(16,), random_state=0,
    ... ).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> reg.score(X, y) > 0.7
    True
    """

    _task = "regression"
    _fitted_attributes = REGRESSOR_ATTRIBUTES
    _given_name = "teacher_pred"
    _teacherless_hint = "set alpha=0 (the targets only)"
    _y_check = dict(multi_output=True, y_numeric=True)
    #: The target of a synthetic row: none (its label term is masked).
    _no_label = np.nan

    _parameter_constraints: dict = {
        **SHARED_CONSTRAINTS,
        "teacher": [None, HasMethods(["fit", "predict"])],
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        teacher=None,
        *,
        alpha=0.5,
        loss="squared_error",
        huber_delta=1.0,
        teacher_cv="auto",
        module=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        max_epochs=100,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        callbacks=None,
        device="cpu",
        memory=None,
        augment=None,
        augment_size=10,
        augment_regenerate=False,
        architecture="auto",
        n_bins=16,
        max_weights=None,
        random_state=None,
        n_threads=None,
        verbose=0,
    ):
        self.teacher = teacher
        self.alpha = alpha
        self.loss = loss
        self.huber_delta = huber_delta
        self.teacher_cv = teacher_cv
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.device = device
        self.memory = memory
        self.augment = augment
        self.augment_size = augment_size
        self.augment_regenerate = augment_regenerate
        self.architecture = architecture
        self.n_bins = n_bins
        self.max_weights = max_weights
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    @native_threads
    def fit(self, X, y, teacher_pred=None, sample_weight=None, **fit_params):
        """Fit the teacher (unless frozen or precomputed), then the student.

        The data and every parameter are checked before anything is fitted.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training features. The teacher receives ``X`` as given; the
            student its numeric float32 copy (string and categorical columns
            of a DataFrame one-hot encoded). Missing values (NaN) are
            accepted when the teacher accepts them.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Finite numeric targets.
        teacher_pred : array-like of shape (n_samples,) or \
(n_samples, n_outputs), default=None
            Precomputed teacher predictions, in the units of ``y``. Only
            with ``teacher=None``. Sliced per fold by ``GridSearchCV``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of each row in the student's loss; also passed to the
            teacher's ``fit`` when it accepts them (through metadata routing
            when enabled).
        **fit_params : dict
            Passed to the teacher's ``fit``.

        Returns
        -------
        self : DistilledRegressor
            The fitted estimator.
        """
        _check_finite_targets(y)
        return self._fit(X, y, teacher_pred, sample_weight, fit_params)

    # ------------------------------------------------- what is a regressor's
    def _check_targets(self, data):
        """Every row is labelled; the targets are standardised for the
        student."""
        y = np.asarray(data.y, dtype=np.float64)
        y = y.reshape(len(y), -1)
        data.n_outputs = y.shape[1]
        data.labelled = np.ones(len(y), dtype=bool)
        data.target_mean = y.mean(axis=0)
        scale = y.std(axis=0)
        data.target_scale = np.where(scale > 0, scale, 1.0)
        data.target = self._standardise(data, y)
        data.student_weight = data.sample_weight

    @staticmethod
    def _standardise(data, values):
        """``values`` (rows, outputs) in standard deviations of the training
        targets, as float32."""
        return ((values - data.target_mean) / data.target_scale).astype(np.float32)

    def _check_teacher(self):
        if self.teacher is not None:
            check_regressor_teacher(self.teacher)

    def _check_given(self, data, teacher_pred):
        return check_teacher_pred(
            teacher_pred, "teacher_pred", len(data.y), data.n_outputs
        )

    def _needs_teacher(self):
        return self.alpha > 0

    def _check_teacher_only_rows(self, what):
        if self.alpha == 0:
            raise ValueError(
                f"Training with {what} learns the teacher's predictions on "
                "rows without a target, which needs alpha > 0; got "
                f"alpha={self.alpha!r}."
            )

    def _check_validation_split(self, data):
        n = len(data.target)
        n_valid = int(np.ceil(self.validation_fraction * n))
        if n_valid < 1 or n - n_valid < 2:
            raise ValueError(
                "early_stopping=True holds out validation_fraction="
                f"{self.validation_fraction!r} of the rows, which must leave "
                f"at least 1 validation and 2 training rows; got {n} rows."
            )

    def _teacher_step(self, data):
        return TeacherStep("regression", n_outputs=data.n_outputs)

    def _student_targets(self, data, pred, seed):
        if pred is None:
            return Bunch(inputs={}, reference=None)
        standardised = self._standardise(data, pred)
        return Bunch(inputs={TEACHER: standardised}, reference=standardised)

    def _transfer_targets(self, data):
        def targets(pred):
            return {TEACHER: self._standardise(data, pred)}

        return targets

    def _net_kwargs(self, data):
        return dict(task="regression")

    def _fitted_values(self, data, targets):
        return dict(
            n_outputs_=data.n_outputs,
            target_mean_=data.target_mean,
            target_scale_=data.target_scale,
        )

    # ------------------------------------------------------------- predict
    def predict(self, X):
        """Predictions of the student, in the units of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict, with the features seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            One column per output; a single output gives a 1-D array.
        """
        outputs = self._outputs_t(X).astype(np.float64).T
        pred = outputs * self.target_scale_ + self.target_mean_
        return pred.ravel() if self.n_outputs_ == 1 else pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _check_finite_targets(y):
    """Refuse targets with NaN or infinity, saying where they are."""
    try:
        values = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        return  # not numeric: check_X_y says so
    if values.ndim == 0:
        return  # not an array: check_X_y says so
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))
        raise ValueError(
            "y must hold finite targets; got "
            f"{int(bad.sum())} NaN or infinite values in {len(rows)} rows "
            f"(the first at row {int(rows[0])}). Drop those rows, or impute "
            "the targets before fitting."
        )


__all__ = ["DistilledRegressor"]
