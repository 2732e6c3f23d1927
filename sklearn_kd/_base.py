"""The fit path that DistilledClassifier and DistilledRegressor share.

``fit`` runs one way, each step reading only what the steps before returned:

1. check the data and every parameter; nothing is fitted yet
   (:meth:`BaseDistilled._check_data`, :meth:`BaseDistilled._check_settings`);
2. the teacher's outputs, once: probabilities for a classifier, predictions
   for a regressor (:class:`~sklearn_kd._teacher_step.TeacherStep`, which
   makes every call to the teacher of the fit);
3. the student's targets, from those outputs (``_student_targets`` of each
   estimator);
4. the student: the ladder of :mod:`sklearn_kd._ladder` for ``"auto"``,
   :func:`~sklearn_kd._student.make_student_module`, the transfer set, and
   :func:`~sklearn_kd._training.build_student_net`;
5. training;
6. every fitted attribute, in one place
   (:func:`~sklearn_kd._fitted.set_fitted`).

The estimators differ only in what is theirs: the targets' checks and
encoding, the teacher's kind of output, the loss, and prediction.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import numbers
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    check_X_y,
    validate_data,
)
from torch import nn

from ._batch import FEATURES, NO_LABEL, SAMPLE_WEIGHT, append_rows
from ._checks import (
    CATEGORICAL_HINTS,
    FLOAT_DTYPES,
    NESTED,
    accepts_sample_weight,
    available_devices,
    check_class,
    check_float32_range,
    check_hidden_layer_sizes,
    check_no_validation_callbacks,
    device_problem,
    missing_message,
    nested_hint,
    rng_devices,
    source_columns,
    student_work,
    teacher_accepts_nan,
    teacher_name,
)
from ._doc_links import DocLinkMixin
from ._encoding import TableEncoder, categorical_columns
from ._fitted import set_fitted
from ._inference import plan_for, prediction_cost
from ._ladder import (
    AUTO_MAX_BINS,
    SELECTIONS,
    HeldOutRows,
    run_ladder,
    subset,
    within_bin_budget,
)
from ._student import (
    ACTIVATIONS,
    ARCHITECTURE_OPTIONS,
    compute_bins,
    make_student_module,
    missing_features,
    teacher_thresholds,
)
from ._teacher_step import is_frozen, resolve_teacher_cv
from ._threads import resolve_threads, thread_scope
from ._training import (
    INFERENCE_BATCH_SIZE,
    OPTIMIZERS,
    build_student_net,
    check_callbacks,
    optimizer_class,
)
from ._transfer import RegenerateTransferSet, draw, fit_augmenter

#: The constraints of the parameters both estimators have.
SHARED_CONSTRAINTS = {
    "alpha": [Interval(Real, 0, 1, closed="both")],
    "teacher_cv": [
        None,
        StrOptions({"auto"}),
        Interval(Integral, 2, None, closed="left"),
        "cv_object",
    ],
    "module": [None, nn.Module, type],
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type, functools.partial],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [None, Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "callbacks": [None, list],
    "device": [str, torch.device],
    "memory": [None, str, HasMethods(["cache"])],
    "augment": [
        None,
        StrOptions({"munge", "gaussian"}),
        HasMethods(["fit", "sample"]),
    ],
    "augment_size": [Interval(Real, 0, None, closed="neither")],
    "augment_regenerate": ["boolean"],
    "architecture": [StrOptions({*ARCHITECTURE_OPTIONS, *SELECTIONS})],
    "n_bins": [Interval(Integral, 2, None, closed="left")],
    "max_weights": [None, Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "n_threads": [None, Interval(Integral, 1, None, closed="left")],
    "verbose": ["verbose"],
}


#: Parameter and attribute descriptions both estimators' docstrings share,
#: written once (see :func:`~sklearn_kd._docstrings.fill_doc`).
SHARED_DOCS = {
    "training_schedule": """\
max_epochs : int, default=100
    Maximum number of passes over the training rows.

batch_size : int, default=128
    Rows per mini-batch (capped at the number of training rows).

lr : float, default=1e-3
    Learning rate.
""",
    "stopping_rule": """\
validation_fraction : float, default=0.1
    Share of rows held out when ``early_stopping=True``.

n_iter_no_change : int or None, default=10
    Patience of the stopping rule; None trains for ``max_epochs``.

tol : float, default=1e-4
    Relative improvement that resets the patience.
""",
    "bins_and_budget": """\
n_bins : int, default=16
    Bins per feature of the piecewise-linear encodings. Under
    ``architecture="auto"`` an encoding with more than 96 bins in all (96
    per class beyond the first for a classifier, per output for a
    regressor) is made again with fewer bins per feature, until it fits:
    its cost per predicted row grows with its bins (see
    :ref:`student_ladder`).

max_weights : int or None, default=None
    The most weights the student may have: its size is 4 bytes per
    weight in float32 (and, for a perceptron, about its multiply-adds
    per predicted row; an encoded student's encoding computes more).
    Under ``"auto"`` and ``"most-accurate"`` a student of the ladder with
    more weights is not trained (``architecture_scores_`` reports it
    as skipped) and the choice is made among the others; ``fit``
    raises a ValueError when none fits, or when the student of any
    other ``architecture`` or ``module`` has more. None sets no limit.
    See :ref:`student_ladder`.
""",
    "feature_attributes": """\
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Feature names, when ``X`` has string column names.
""",
    "history_attributes": """\
history_ : skorch.History
    Per-epoch training (and validation) losses.
n_iter_ : int
    Number of epochs run.
""",
}


class BaseDistilled(DocLinkMixin, BaseEstimator):
    """What a distilled estimator does that does not depend on its task.

    A subclass sets ``_task`` (``"classification"`` or ``"regression"``)
    and ``_fitted_attributes``, and provides ``_check_targets``,
    ``_check_given``, ``_teacher_step``, ``_student_targets``,
    ``_transfer_targets``, ``_needs_teacher``, ``_check_teacher_only_rows``,
    ``_check_validation_split`` and ``_fitted_values``.
    """

    _task = None
    _fitted_attributes = ()

    def set_params(self, **params):
        """Set the parameters of this estimator.

        ``optimizer__<arg>`` and ``module__<arg>`` are not parameters: give
        optimizer arguments with ``optimizer=functools.partial(...)`` and
        module arguments through a module class or instance.
        ``teacher__<arg>`` and ``augment__<arg>`` set a parameter of the
        teacher or of the augmenter, so they need an estimator there:
        ``augment=MUNGE()`` rather than ``augment="munge"``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator
            This estimator.
        """
        for key in params:
            name, sep, arg = key.partition("__")
            if sep and name in ("optimizer", "module"):
                hint = (
                    "functools.partial(torch.optim.SGD, momentum=0.9)"
                    if name == "optimizer"
                    else "functools.partial(MyModule, width=64) or an instance"
                )
                raise ValueError(
                    f"{key} is not a parameter of {type(self).__name__}: "
                    f"{name} arguments are given with {name}={hint}, which "
                    f"clone and GridSearchCV keep; got {key}={params[key]!r}."
                )
            if sep and name in NESTED:
                # the value in place once this call has set the plain names
                value = params.get(name, getattr(self, name))
                if not hasattr(value, "set_params"):
                    raise ValueError(
                        f"{key} sets a parameter of the {NESTED[name]}, which needs "
                        f"{name} to be an estimator; got {name}={value!r}. "
                        + nested_hint(name, value, arg)
                    )
        return super().set_params(**params)

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, given, sample_weight, fit_params):
        """The shared fit; ``given``: precomputed teacher outputs or None."""
        # 1. the data and every parameter; nothing is fitted yet
        data = self._check_data(X, y, given, sample_weight)
        settings = self._check_settings(data, fit_params)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))

        # 2. the teacher's outputs, once (fitted on the labelled rows)
        step = self._teacher_step(data)
        with self._teacher_meets_the_data(data):
            outputs = step.training_rows(
                self._teacher_estimator(rng),
                data.X_teacher,
                data.y,
                data.labelled,
                given=data.given,
                cv=resolve_teacher_cv(self.teacher_cv, self.teacher),
                fit_params=settings.teacher_fit_params,
                memory=self.memory,
            )

        # 3. the student's targets
        # torch's work before training (softening, bins, the module's
        # initialisation) is small: one thread under n_threads=None
        setup_threads = functools.partial(thread_scope, self.n_threads, 0)
        with setup_threads():
            targets = self._student_targets(data, outputs, seed)
        inputs = {FEATURES: data.X, **targets.inputs}
        if data.student_weight is not None:
            inputs[SAMPLE_WEIGHT] = data.student_weight

        # 4. the student (chosen from the ladder for "auto"), 5. its training
        devices = rng_devices(settings.device)
        hidden_layer_sizes, choice = settings.hidden_layer_sizes, None
        architecture = self.architecture
        if self.module is None and architecture in SELECTIONS:
            choice = self._choose_student(
                data, inputs, step.fitted, targets.reference, settings, seed,
                devices,
            )
            architecture = "mlp" if choice is None else choice.architecture
            if choice is not None:
                hidden_layer_sizes = choice.hidden_layer_sizes
        with setup_threads(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            built = self._built_in_student(data, step.fitted, architecture)
            module = make_student_module(
                self.module,
                data.X.shape[1],
                data.n_outputs,
                hidden_layer_sizes=hidden_layer_sizes,
                activation=self.activation,
                X=data.X,
                missing=settings.missing,
                **built,
            )
        self._check_max_weights(module, ladder=self.module is None
                                and self.architecture in SELECTIONS)
        # 4b. the transfer set: synthetic rows after the real ones
        target, extra_callbacks = data.target, []
        if self.augment is not None:
            make = self._transfer_set_maker(
                data, step, rng, allow_nan=settings.missing is not None
            )
            n_new = int(round(self.augment_size * len(data.X)))
            if n_new:
                inputs, target = append_rows(
                    inputs, target, make(n_new), data.student_weight,
                    no_label=self._no_label,
                )
                if self.augment_regenerate:
                    extra_callbacks.append((
                        "regenerate_transfer_set",
                        RegenerateTransferSet(make, start=len(data.X)),
                    ))
        params = self.get_params(deep=False)
        if choice is not None and not self.early_stopping:
            # as many epochs as were best for the chosen student held out
            params["max_epochs"] = choice.epochs
        student = self._build_net(
            module, params, settings, seed, target, extra_callbacks, data
        )
        work = student_work(module, student.batch_size)
        try:
            with thread_scope(self.n_threads, work):
                with torch.random.fork_rng(devices=devices):
                    torch.manual_seed(seed)
                    student.fit(inputs, target)
        finally:
            # 6. every fitted attribute, in one place; also when training
            # stops with an error, so that the half-trained student can be
            # inspected (its predictions refuse non-finite outputs)
            set_fitted(
                self,
                teacher_=step.fitted,
                student_=student,
                architecture_=built["architecture"],
                architecture_scores_=None if choice is None else choice.scores,
                encoder_=data.encoder,
                **self._fitted_values(data, targets),
            )
        return self

    #: The training target of a row without a hard one.
    _no_label = NO_LABEL

    def _build_net(self, module, params, settings, seed, target,
                   extra_callbacks=(), data=None, n_rows=None):
        """The skorch net that trains ``module`` on ``target``."""
        return build_student_net(
            module,
            params,
            device=settings.device,
            n_rows=len(target) if n_rows is None else n_rows,
            seed=seed,
            y_idx=target,
            extra_callbacks=extra_callbacks,
            **self._net_kwargs(data),
        )

    def _check_data(self, X, y, given, sample_weight):
        """The validated training data, as a Bunch. ``validate_data``
        records ``n_features_in_`` (and ``feature_names_in_``), as in every
        scikit-learn estimator; no other attribute is set."""
        data = Bunch(X_teacher=X, encoder=None)  # the teacher sees X as given
        check = dict(
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
            ensure_all_finite="allow-nan",  # NaN: see _check_missing
            **self._y_check,
        )
        if categorical_columns(X):
            # the features of the user's X; the student sees their encoding
            validate_data(self, X, skip_check_array=True)
            data.encoder = TableEncoder().fit(X)
            data.X, data.y = check_X_y(data.encoder.transform(X), y, **check)
        else:
            data.X, data.y = validate_data(self, X, y, **check)
        check_float32_range(data.X)
        data.missing = missing_features(data.X)
        data.sample_weight = sample_weight
        if sample_weight is not None:
            data.sample_weight = _check_sample_weight(
                sample_weight, data.X, dtype=np.float64, ensure_non_negative=True
            )
        # the targets, the rows that have one, and the student's row weights
        self._check_targets(data)
        data.given = None
        if given is not None:
            if self.teacher is not None:
                raise ValueError(
                    f"Pass either a teacher or {self._given_name}, not both: "
                    f"got teacher={self.teacher!r} and a {self._given_name} "
                    "array."
                )
            data.given = self._check_given(data, given)
        elif self.teacher is None and self._needs_teacher():
            raise ValueError(
                f"{type(self).__name__} needs a teacher: pass "
                f"teacher=<estimator> or fit(X, y, {self._given_name}=...), "
                f"or {self._teacherless_hint}; got teacher=None, "
                f"alpha={self.alpha!r}."
            )
        return data

    #: Keywords of ``check_X_y`` for ``y``.
    _y_check = {}

    def _check_settings(self, data, fit_params):
        """Checks of the parameters that depend on the data or on each other,
        beyond ``_parameter_constraints``: the student's, the device, the
        teacher's cross-validation and the metadata the teacher receives."""
        if inspect.isclass(self.teacher):
            raise TypeError(
                "teacher must be an estimator instance, e.g. "
                f"teacher={self.teacher.__name__}(); got the class "
                f"{self.teacher.__name__}."
            )
        self._check_teacher()
        device = self._check_device()
        hidden_layer_sizes = None
        if self.module is None:
            hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        check_class(self.module, nn.Module, "module")
        optimizer = optimizer_class(self.optimizer)
        if optimizer is not self.optimizer and not inspect.isclass(optimizer):
            raise TypeError(
                "optimizer given as a functools.partial must wrap a "
                f"torch.optim.Optimizer subclass; got {self.optimizer!r}."
            )
        check_class(optimizer, torch.optim.Optimizer, "optimizer")
        callbacks = check_callbacks(self.callbacks)
        if self.early_stopping:
            self._check_validation_split(data)
        else:
            check_no_validation_callbacks(callbacks)
        self._check_label_free_rows(data)
        cv = resolve_teacher_cv(self.teacher_cv, self.teacher)
        if cv is not None and cv != "oob" and self.teacher is not None:
            self._check_teacher_cv(data)
        return Bunch(
            device=device,
            hidden_layer_sizes=hidden_layer_sizes,
            missing=self._check_missing(data),
            teacher_fit_params=self._teacher_fit_params(
                data.sample_weight, fit_params
            ),
        )

    def _check_teacher(self):
        """Refuse a teacher of the wrong kind (see the subclasses)."""

    def _accepts_missing(self):
        """Whether this estimator accepts NaN in ``X``: True, False, or None
        when only its teacher's fit can tell (see :func:`teacher_accepts_nan`)."""
        if self.module is not None:
            return False  # a custom module receives the raw features
        if isinstance(self.teacher, str):
            return True  # born-again: the first student handles NaN too
        if self.teacher is None:
            # no teacher needed: the student alone learns from the rows;
            # precomputed outputs: no teacher answers for the rows with NaN
            return not self._needs_teacher()
        return teacher_accepts_nan(self.teacher)

    def _check_missing(self, data):
        """How the built-in student treats missing values: None (it refuses
        NaN) or the features that get a missing indicator. Raises when X
        holds NaN that the teacher (or a custom module) does not accept."""
        accepts = self._accepts_missing()
        if not len(data.missing):
            return [] if accepts else None
        if accepts is False:
            missing = source_columns(data.encoder, data.missing)
            raise ValueError(missing_message(self, "X", missing, fit=True))
        return data.missing.tolist()

    @contextlib.contextmanager
    def _teacher_meets_the_data(self, data):
        """Where the teacher's fit is the test of whether it accepts NaN or
        categorical columns (a pipeline, a teacher from another library),
        its refusal is reported in the terms of this estimator."""
        try:
            yield
        except (ValueError, TypeError) as exc:
            said = str(exc).lower()
            if (
                data.encoder is not None
                and self.teacher is not None
                and not isinstance(self.teacher, str)
                and any(hint in said for hint in CATEGORICAL_HINTS)
            ):
                teacher = teacher_name(self.teacher)
                names = [str(c) for c in data.encoder.dtypes_.index]
                columns = [names[j] for j in data.encoder.categorical_]
                raise ValueError(
                    f"The teacher {teacher} failed on X, "
                    f"whose columns {columns!r} are categorical (it said: "
                    f"{type(exc).__name__}: {exc}). The student encodes "
                    "such columns itself, but the teacher receives X as "
                    "given: encode them for the teacher too, e.g.\n\n"
                    "    from sklearn.compose import make_column_transformer\n"
                    "    from sklearn.preprocessing import OneHotEncoder\n"
                    "    from sklearn.pipeline import make_pipeline\n"
                    "    teacher = make_pipeline(\n"
                    "        make_column_transformer(\n"
                    "            (OneHotEncoder(handle_unknown='ignore'), "
                    f"{columns!r}),\n"
                    "            remainder='passthrough'),\n"
                    f"        {teacher}(...))\n"
                ) from exc
            if not isinstance(exc, ValueError):
                raise
            if not len(data.missing) or "NaN" not in str(exc):
                raise
            missing = source_columns(data.encoder, data.missing)
            raise ValueError(
                missing_message(self, "X", missing, fit=True, refused=exc)
            ) from None

    def _check_label_free_rows(self, data):
        """Rows without a hard target train on the teacher's alone: they need
        a teacher and settings that learn from it."""
        what = []
        if not data.labelled.all():
            what.append(
                f"{int((~data.labelled).sum())} unlabelled rows "
                f"(y == {self.unlabelled!r})"
            )
        if self.augment is not None:
            what.append(f"augment={self.augment!r}")
        if not what:
            return
        if self.augment is not None and self.teacher is None:
            raise ValueError(
                f"augment={self.augment!r} draws new rows that a teacher must "
                f"label, but teacher=None ({self._given_name} only covers the "
                "training rows). Pass teacher=<estimator> or set augment=None."
            )
        self._check_teacher_only_rows(" and ".join(what))

    def _built_in_student(self, data, fitted_teacher, architecture):
        """The ``architecture`` to build (None with a custom ``module``) and
        its bin edges (None but for the piecewise-linear encodings)."""
        if self.module is not None:
            return dict(architecture=None, bins=None)
        thresholds = None
        if architecture == "ple-teacher" and fitted_teacher is not None:
            thresholds = self._student_thresholds(data, fitted_teacher)
        if not architecture.startswith("ple"):
            return dict(architecture=architecture, bins=None)
        X, y = data.X, None
        if architecture == "ple-tree":
            X, y = X[data.labelled], data.target[data.labelled]

        def bins_of(n_bins):
            return compute_bins(X, n_bins, y=y, thresholds=thresholds,
                                task=self._task)

        bins = bins_of(self.n_bins)
        if self.architecture == "auto":
            per_logit = data.n_outputs - (self._task == "classification")
            budget = AUTO_MAX_BINS * max(1, per_logit)
            bins = within_bin_budget(bins_of, bins, self.n_bins, budget)
        return dict(architecture=architecture, bins=bins)

    def _check_max_weights(self, module, ladder=False):
        """A ValueError when ``module`` has more weights than
        ``max_weights``; ``ladder``: it is the perceptron taken because too
        few rows could be held out to compare the ladder's students."""
        n_weights = student_work(module, 1)
        if self.max_weights is None or n_weights <= self.max_weights:
            return
        why = (
            f"Too few rows could be held out to compare the students of "
            f"architecture={self.architecture!r}, so the perceptron was "
            "taken; it " if ladder else "The student "
        )
        raise ValueError(
            f"{why}has {n_weights} weights, more than "
            f"max_weights={self.max_weights}. Pass a smaller "
            "hidden_layer_sizes (or n_bins for the piecewise-linear "
            "encodings), a smaller module, or a larger max_weights."
        )

    def _ladder_module(self, data, fitted_teacher, settings, architecture,
                       hidden, seed, devices):
        """The untrained student of one rung of the ladder."""
        with thread_scope(self.n_threads, 0), torch.random.fork_rng(
            devices=devices
        ):
            torch.manual_seed(seed)
            built = self._built_in_student(data, fitted_teacher, architecture)
            return make_student_module(
                None,
                data.X.shape[1],
                data.n_outputs,
                hidden_layer_sizes=hidden,
                activation=self.activation,
                X=data.X,
                missing=settings.missing,
                **built,
            )

    def _choose_student(self, data, inputs, fitted_teacher, reference, settings,
                        seed, devices):
        """The ladder of :mod:`sklearn_kd._ladder` on these rows: each rung
        trained on most of them and scored on the others against their hard
        targets; its fidelity to the teacher's ``reference`` (its top class,
        or its standardised predictions) is reported beside. None when too
        few rows can be held out."""
        encoding = "ple"
        if fitted_teacher is not None and self._student_thresholds(
            data, fitted_teacher
        ) is not None:
            encoding = "ple-teacher"
        rows = np.flatnonzero(data.labelled)
        # a user's checkpoints and logs see the final fit only
        params = {**self.get_params(deep=False), "callbacks": None, "verbose": 0}

        # one untrained module per rung, built (seeded, so the same) once
        # for its weight count, its prediction cost and its training
        @functools.cache
        def build(architecture, hidden):
            return self._ladder_module(
                data, fitted_teacher, settings, architecture, hidden, seed,
                devices,
            )

        def train_rung(architecture, hidden, train, held_out):
            module = build(architecture, hidden)
            # stopped on the held-out rows' loss, with the best epoch's weights
            stop = self.n_iter_no_change is not None
            net = self._build_net(
                module, {**params, "early_stopping": stop}, settings, seed,
                data.target[train], data=data,
            )
            rows = np.concatenate([train, held_out])
            if stop:
                net.set_params(train_split=HeldOutRows(len(train)))
            else:
                rows = train
            work = student_work(module, net.batch_size)
            with thread_scope(self.n_threads, work):
                with torch.random.fork_rng(devices=devices):
                    torch.manual_seed(seed)
                    net.fit(subset(inputs, rows), data.target[rows])
            epochs = len(net.history)
            if stop:
                best = np.flatnonzero(net.history[:, "valid_loss_best"])
                epochs = int(best[-1]) + 1 if len(best) else epochs
            rows = torch.from_numpy(np.asarray(data.X[held_out], dtype=np.float32))
            net.module_.train(False)
            with thread_scope(self.n_threads, 0), torch.inference_mode():
                outputs = net.module_(rows).numpy()
            return outputs, student_work(module, 1), epochs

        return run_ladder(
            train_rung,
            data.target,
            rows,
            settings.hidden_layer_sizes,
            encoding,
            seed,
            self.architecture,
            reference=reference,
            task=self._task,
            max_weights=self.max_weights,
            count_weights=lambda *rung: student_work(build(*rung), 1),
            count_cost=lambda *rung: prediction_cost(build(*rung)),
        )

    def _student_thresholds(self, data, fitted_teacher):
        """The teacher's split thresholds in the student's columns, or None
        when the teacher is no tree ensemble that can be read."""
        thresholds = teacher_thresholds(fitted_teacher, self.n_features_in_)
        if thresholds is not None and data.encoder is not None:
            # the student's columns: the numeric ones, then one-hot
            # columns, which no threshold splits
            thresholds = [
                thresholds[j] if j in data.encoder.numeric_ else []
                for j in data.encoder.source_
            ]
        return thresholds

    def _transfer_set_maker(self, data, step, rng, allow_nan=False):
        """A function drawing ``n`` teacher-labelled synthetic rows as the
        student's inputs (features and targets by input name); the rows may
        hold NaN when ``allow_nan`` (the student handles missing values)."""
        X = data.X
        augmenter = fit_augmenter(
            self.augment, X, int(rng.randint(np.iinfo(np.int32).max))
        )
        draw_rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        feature_names = (
            getattr(self, "feature_names_in_", None)
            if hasattr(data.X_teacher, "columns")
            else None
        )
        encoder, targets = data.encoder, self._transfer_targets(data)

        def make(n_rows):
            X_new = draw(augmenter, n_rows, draw_rng, X.shape[1], allow_nan)
            X_teacher, names = X_new, feature_names
            if encoder is not None:
                # the teacher labels the table whose encoding is nearest the
                # drawn rows (each categorical column takes the level of its
                # largest one-hot entry); the student learns its encoding
                X_teacher, names = encoder.inverse_transform(X_new), None
                X_new = encoder.transform(X_teacher)
            outputs = step.label(X_teacher, names)
            return {FEATURES: X_new.astype(X.dtype), **targets(outputs)}

        return make

    def _check_device(self):
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"device must name a torch device such as 'cpu' or 'cuda'; got "
                f"{self.device!r} ({exc})."
            ) from None
        problem = device_problem(device)
        if problem is not None:
            available = ", ".join(repr(d) for d in available_devices())
            raise ValueError(
                f"device={self.device!r} was requested but {problem}; "
                f"devices torch can use here: {available}."
            )
        return device

    def _check_teacher_cv(self, data):
        """``teacher_cv`` must refit the teacher, and make folds that the
        labelled rows can fill."""
        if is_frozen(self.teacher):
            raise ValueError(
                "teacher_cv needs a teacher that can be refitted per fold; "
                "a FrozenEstimator is never refitted. Use teacher_cv=None "
                "(its predictions on these rows are out-of-sample if it was "
                "fitted elsewhere) or pass the unfitted estimator; got "
                f"teacher_cv={self.teacher_cv!r}."
            )
        classify = self._task == "classification"
        y = data.target[data.labelled]
        splitter = check_cv(self.teacher_cv, y, classifier=classify)
        n_splits = splitter.get_n_splits()
        if not hasattr(self.teacher_cv, "split") and not isinstance(
            self.teacher_cv, numbers.Integral
        ):
            # An explicit list of (train, test) folds: the out-of-fold
            # outputs need every labelled row in exactly one test fold.
            tests = [np.asarray(test) for _, test in splitter.split(y, y)]
            test = np.concatenate(tests) if tests else np.empty(0, dtype=int)
            if not np.array_equal(np.sort(test), np.arange(len(y))):
                raise ValueError(
                    "teacher_cv given as (train, test) index pairs must put "
                    f"each of the {len(y)} labelled rows in exactly one test "
                    f"fold; got {len(tests)} folds whose test parts hold "
                    f"{len(test)} indices ({len(np.unique(test))} distinct)."
                )
        smallest = np.unique(y, return_counts=True)[1].min() if classify else len(y)
        if len(y) < n_splits or smallest < n_splits:
            what = "rows of every class" if classify else "rows"
            detail = f" and a smallest class of {smallest} rows" if classify else ""
            raise ValueError(
                f"teacher_cv={self.teacher_cv!r} makes {n_splits} folds, which "
                f"needs at least {n_splits} {what}; got {len(y)} rows{detail}."
            )

    def _teacher_fit_params(self, sample_weight, fit_params):
        """The metadata the teacher's ``fit`` receives."""
        has_teacher = self.teacher is not None and not isinstance(self.teacher, str)
        if _routing_enabled():
            routed = process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            )
            return dict(routed.teacher.fit) if "teacher" in routed else {}
        if fit_params and not has_teacher:
            raise TypeError(
                "Extra fit parameters are passed to the teacher's fit, but "
                f"teacher={self.teacher!r} has none to receive them; got "
                f"{sorted(fit_params)!r}."
            )
        fit_params = dict(fit_params)
        if (
            sample_weight is not None
            and has_teacher
            and accepts_sample_weight(self.teacher)
        ):
            fit_params["sample_weight"] = sample_weight
        return fit_params

    def get_metadata_routing(self):
        """Metadata routing of this estimator.

        ``sample_weight`` and the precomputed teacher outputs are consumed by
        the student; the teacher's ``fit`` receives what it requested.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        if self.teacher is not None and not isinstance(self.teacher, str):
            router.add(
                teacher=self.teacher,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        return router

    def _teacher_estimator(self, rng):
        """The estimator that teaches."""
        return self.teacher

    # ------------------------------------------------------------- predict
    def _inference_plan(self):
        """The prepared student of this fitted estimator (checked fitted).

        Made on the first prediction and kept with the module until its
        weights change (see :func:`~sklearn_kd._inference.plan_for`). A
        ``student_`` proves the estimator fitted (``check_is_fitted`` would
        find it), so ``check_is_fitted`` runs only without one, to raise.
        """
        student = self.__dict__.get("student_")
        if student is None:
            check_is_fitted(self)
        return plan_for(student.module_)

    def _rows(self, X):
        """``X`` as a C-ordered float32 array, checked as
        ``validate_data(self, X, reset=False)`` checks it, and whether it is
        known to be finite.

        A float32 or float64 ndarray with the fitted number of columns, on
        an estimator fitted without feature names or categorical columns,
        is exactly what ``validate_data`` returns unchanged once it is
        finite: only its finiteness (and, for float64, the float32 range)
        is checked here, with one float32 sum. Anything else, or a sum that
        is not finite (NaN, which a student that handles missing values
        accepts), goes through ``validate_data``, the encoding of categorical
        columns and the missing-value checks, with their errors and warnings.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in FLOAT_DTYPES
            and X.shape[0] >= 1
            and X.shape[1] == self.n_features_in_
            and "feature_names_in_" not in self.__dict__
            and self.__dict__.get("encoder_") is None
        ):
            # values out of float32 range become inf, and a sum holding an
            # inf or a NaN is not finite: a finite sum proves every value
            # finite and within float32 range (a sum that overflows only
            # sends the rows the long way, which accepts them)
            with np.errstate(over="ignore", invalid="ignore"):
                # C-ordered float32 as it is, anything else copied once
                rows = np.ascontiguousarray(X, dtype=np.float32)
                finite = math.isfinite(rows.sum())
            if finite:
                return rows, True
        check = dict(dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
        encoder = getattr(self, "encoder_", None)
        if encoder is None:
            X = validate_data(self, X, reset=False, **check)
        else:
            validate_data(self, X, reset=False, skip_check_array=True)
            X = check_array(encoder.transform(X), **check)
        check_float32_range(X)
        if not getattr(self.student_.module_, "handles_missing", False):
            missing = missing_features(X)
            if len(missing):
                missing = source_columns(encoder, missing)
                raise ValueError(missing_message(self, "X", missing, fit=False))
        return np.ascontiguousarray(X, dtype=np.float32), False

    def _outputs_t(self, X, margin=False):
        """The student's float32 outputs on ``X``, transposed (outputs,
        rows), as a numpy array: softmax and argmax over a short first axis
        of a C-ordered array are several times faster than over a short
        last axis. With ``margin``, a classifier of two classes gives
        ``logit_1 - logit_0`` instead, as a (rows,) array."""
        plan = self._inference_plan()
        X, finite = self._rows(X)
        work = min(X.shape[0], INFERENCE_BATCH_SIZE) * plan.row_work
        threads = resolve_threads(getattr(self, "n_threads", None), work)
        outputs = plan.logits_t(X, threads, finite=finite, margin=margin)
        # a float32 sum of finite outputs may overflow; look closer only then
        if not math.isfinite(float(outputs.sum())):
            bad = ~np.isfinite(outputs).reshape(-1, X.shape[0]).all(axis=0)
            if bad.any():
                what = "logits" if self._task == "classification" else "outputs"
                raise ValueError(
                    f"The student's {what} must be finite to give predictions; "
                    f"got non-finite {what} for {int(bad.sum())} of "
                    f"{X.shape[0]} rows of X. X lies far outside the range "
                    "seen in fit (it overflows float32 inside the network), "
                    "or fit diverged (lower lr)."
                )
        return outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = str(self.device).startswith("cuda")
        tags.input_tags.allow_nan = bool(self._accepts_missing())
        return tags

