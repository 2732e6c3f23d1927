"""DistilledClassifier: distil any scikit-learn teacher into a PyTorch student.

``fit`` runs one way, each step reading only what the steps before returned:

1. check the data and every parameter (nothing is fitted yet);
2. the teacher's probabilities, once
   (:func:`~sklearn_kd._teacher_targets.teacher_probabilities`);
3. the teacher softened once: its statistics, the knowledge level and the
   training targets (:func:`~sklearn_kd._teacher_targets.soften_teacher`);
4. the student (:func:`make_student_module`, :func:`build_student_net`,
   which :mod:`sklearn_kd.persistence` uses too);
5. training;
6. every fitted attribute, in one place (:func:`set_fitted`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import numbers
import os
import sys
import warnings
from numbers import Integral, Real

import joblib
import numpy as np
import sklearn
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    check_X_y,
    has_fit_parameter,
    validate_data,
)
from skorch.callbacks import (
    BatchScoring,
    EpochScoring,
    PassthroughScoring,
)
from torch import nn

from ._batch import FEATURES, NO_LABEL, SAMPLE_WEIGHT, append_rows, target_inputs
from ._doc_links import DocLinkMixin
from ._encoding import TableEncoder, categorical_columns
from ._fitted import set_fitted
from ._inference import plan_for
from ._ladder import SELECTIONS, HeldOutRows, run_ladder, subset
from ._student import (
    ACTIVATIONS,
    ARCHITECTURE_OPTIONS,
    compute_bins,
    make_student_module,
    missing_features,
    teacher_thresholds,
)
from ._teacher_targets import (
    OverconfidentTeacherWarning,
    check_teacher_proba,
    is_frozen,
    resolve_teacher_cv,
    soften_teacher,
    teacher_probabilities,
)
from ._threads import SMALL_WORK, resolve_threads, thread_scope
from ._training import (
    INFERENCE_BATCH_SIZE,
    OPTIMIZERS,
    build_student_net,
    check_callbacks,
    optimizer_class,
)
from ._transfer import (
    RegenerateTransferSet,
    draw,
    fit_augmenter,
    labelled_mask,
    teacher_label,
)
from ._validation import KNOWLEDGE_LEVELS, LOSSES
from .augment import AUGMENTERS
from .diagnostics import is_overconfident

#: Packages whose frames stand between a user's call and ``fit``: warnings
#: skip them to point at the user's own line.
#: The dtypes X may have to skip ``validate_data`` at prediction.
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_INTERNAL_PACKAGES = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (sklearn, joblib)
) + (os.path.dirname(__file__) + os.sep,)


def _native_threads(fit):
    """Run ``fit`` under an explicit ``n_threads`` for every thread pool.

    With an integer ``n_threads`` the teacher's OpenMP and BLAS pools are
    capped too (see :mod:`sklearn_kd._threads`); with None nothing changes
    here, and the student's torch threads are chosen around its training.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        with thread_scope(self.n_threads, SMALL_WORK, native=True):
            return fit(self, *args, **kwargs)

    return wrapper


def _student_work(module, rows):
    """Multiply-adds of one pass of ``rows`` rows: rows times the weights."""
    return int(rows) * sum(p.numel() for p in module.parameters())


def _check_class(value, base, name):
    if inspect.isclass(value) and not issubclass(value, base):
        raise TypeError(
            f"{name} must be a subclass of {base.__module__}.{base.__qualname__} "
            f"when given as a class; got {value!r}."
        )


class DistilledClassifier(DocLinkMixin, ClassifierMixin, BaseEstimator):
    """Distil a teacher's ``predict_proba`` into a PyTorch student network.

    The student, a small neural network trained by skorch, minimises

    ``(1 - alpha) * CE(y, p) + alpha * T**2 * KL(q_T || p_T)``

    where ``q_T = softmax(log q / T)`` softens the teacher's probabilities
    ``q`` and ``p_T = softmax(z / T)`` the student's logits ``z``. The teacher
    is any fitted or unfitted scikit-learn classifier with ``predict_proba``,
    a :class:`~sklearn.frozen.FrozenEstimator`, or precomputed probabilities
    passed to :meth:`fit`. Its probabilities are computed once per fit.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    teacher : estimator, "self" or None, default=None
        The teacher. An estimator with ``fit`` and ``predict_proba`` is
        cloned and fitted on the training rows; a ``FrozenEstimator`` is used
        as it is (never refitted). A teacher whose ``fit`` fails on the
        labels but accepts their indices ``0..n_classes-1`` (XGBoost's) is
        fitted on the indices, wrapped in
        :class:`~sklearn_kd.teachers.EncodedLabelsTeacher`. ``"self"``
        trains a first student of the same architecture on the hard labels
        and distils it into a second one (born-again self-distillation).
        ``None`` requires ``teacher_proba`` in :meth:`fit`, unless
        ``alpha=0`` or ``loss="label_smoothing"``.

    temperature : float, default=1.0
        Temperature ``T > 0`` applied to teacher and student in the soft
        term. ``T > 1`` exposes the teacher's non-target probabilities;
        ``T < 1`` sharpens an under-confident teacher (random forests often
        are out of sample). See :ref:`choosing_temperature`.

    alpha : float, default=0.5
        Weight of the teacher term in [0, 1]; 0 is plain cross-entropy on
        the hard labels, 1 ignores them. With ``loss="label_smoothing"``
        it is the smoothing ``epsilon``.

    loss : {"kd", "dkd", "label_smoothing"}, default="kd"
        ``"kd"``: Hinton et al. (2015). ``"dkd"``: decoupled KD (Zhao et
        al., 2022) with ``tckd_weight`` and ``nckd_weight``.
        ``"label_smoothing"``: the teacher-free baseline.

    knowledge : {"full", "universe", "domain", "instance", \
"instance_shuffled", "domain_shuffled"}, default="full"
        Which part of the softened teacher the student sees (Tang et al.):
        ``"universe"`` keeps one constant true-class confidence and a uniform
        rest, ``"domain"`` adds class-level non-target shapes, ``"instance"``
        keeps each row's true-class confidence with a uniform rest, ``"full"``
        is the teacher itself. The placebos keep a level's shape and destroy
        its information: ``"instance_shuffled"`` permutes the confidences
        among the rows of each class, ``"domain_shuffled"`` relabels the
        class-level shapes by a random class permutation; both are drawn from
        ``random_state``. Comparing a level with its placebo tells whether the
        teacher's gain comes from what it knows about the rows or the
        classes. See :mod:`sklearn_kd.knowledge`.

    tckd_weight : float, default=1.0
        Weight of the target-class term when ``loss="dkd"``.

    nckd_weight : float, default=1.0
        Weight of the non-target-class term when ``loss="dkd"``.

    scale_t2 : bool, default=True
        Multiply the soft term by ``T**2``. Switch off to tune ``alpha`` and
        ``temperature`` jointly on an unscaled loss.

    teacher_cv : "auto", int, cross-validation generator or None, \
default="auto"
        Where the teacher's probabilities on the training rows come from.
        None: the teacher predicts the rows it was fitted on. An integer or
        splitter: the student learns from out-of-fold probabilities (as in
        :class:`~sklearn.ensemble.StackingClassifier`), which keeps random
        forests and boosting from handing over near one-hot targets; it
        requires an unfitted teacher and costs one teacher fit per fold.
        ``"auto"``: out-of-bag probabilities when the teacher is an
        unfitted bagging ensemble with ``bootstrap=True``
        (:class:`~sklearn.ensemble.RandomForestClassifier` by default,
        :class:`~sklearn.ensemble.ExtraTreesClassifier` or
        :class:`~sklearn.ensemble.BaggingClassifier` with
        ``bootstrap=True``): it is fitted once with ``oob_score=True`` and
        each row takes the mean probabilities of the trees that did not see
        it, at no extra fit. A forest predicts its own training rows nearly
        one-hot, because each tree saw most of them; see
        :ref:`forest_teachers`. Otherwise (a frozen teacher, another model)
        ``"auto"`` is None.

    module : torch.nn.Module instance or class, default=None
        The student, returning logits. A class is instantiated as
        ``module(n_features, n_classes)`` (``n_features`` counts the one-hot
        columns of ``encoder_``, if any); an instance is deep-copied at fit
        and its weights are the starting point. ``None`` builds
        :class:`~sklearn_kd.MLPStudent`, which standardises its inputs from
        the training rows; custom modules receive the raw features.

    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the hidden layers of the default student; an int is one
        layer, as in :class:`~sklearn.neural_network.MLPClassifier`.

    activation : {"relu", "tanh", "logistic", "gelu"}, default="relu"
        Non-linearity of the default student.

    max_epochs : int, default=100
        Maximum number of passes over the training rows.

    batch_size : int, default=128
        Rows per mini-batch (capped at the number of training rows).

    lr : float, default=1e-3
        Learning rate.

    optimizer : {"adam", "adamw", "sgd"}, torch.optim.Optimizer class or \
functools.partial of one, default="adam"
        The optimiser. Its arguments go in a :func:`functools.partial`, which
        ``clone`` and ``GridSearchCV`` keep, e.g.
        ``functools.partial(torch.optim.SGD, momentum=0.9, nesterov=True)``.
        Adam and AdamW use torch's fused kernel where the device supports
        it, unless the partial sets ``fused`` or ``foreach``.

    weight_decay : float, default=0.0
        L2 penalty passed to the optimiser.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the student's loss, as in scikit-learn's
        classifiers: a dict ``{label: weight}`` (classes it leaves out
        weigh 1), or ``"balanced"``, ``n_samples / (n_classes *
        np.bincount(y))`` over the labelled rows. Each row's class weight
        multiplies its ``sample_weight``; unlabelled rows, which have no
        class, keep theirs, and the synthetic rows of ``augment`` weigh the
        mean row weight. The teacher is not affected: set its own
        ``class_weight`` to weight its classes.

    early_stopping : bool, default=False
        If True, hold out ``validation_fraction`` of the rows (stratified on
        the hard labels), stop when the validation loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs, and restore the best
        weights. If False, stop when the training loss stalls likewise.

    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.

    n_iter_no_change : int or None, default=10
        Patience of the stopping rule; None trains for ``max_epochs``.

    tol : float, default=1e-4
        Relative improvement that resets the patience.

    callbacks : list of skorch callbacks or (name, callback) tuples, \
default=None
        Extra skorch callbacks, deep-copied at fit. Those that read the
        validation rows (``EpochScoring`` with ``on_train=False``, monitors
        of ``"valid_loss"``) need ``early_stopping=True``, which holds them
        out.

    device : str or torch.device, default="cpu"
        Where the student trains, e.g. ``"cuda"``. Training data and teacher
        targets are moved there once per fit. A device torch cannot use on
        this machine is refused before the teacher is fitted.

    memory : str, joblib.Memory or None, default=None
        Cache of the teacher's probabilities (and fitted teacher), keyed by
        teacher, data and ``teacher_cv``: a grid search over ``temperature``
        and ``alpha`` then runs the teacher once per fold.

    teacher_top_k : int or None, default=None
        Keep only each row's ``teacher_top_k`` largest softened teacher
        probabilities and spread the remaining mass evenly over the other
        classes. The training targets then take ``2 k + 1`` numbers per row
        instead of ``n_classes`` (for 1000 classes and ``k = 10``, about 1/40
        of the memory), which matters on a GPU with many classes.

    augment : None, "munge", "gaussian" or object, default=None
        Transfer set (Bucilă et al., 2006): synthetic rows near the training
        rows, labelled by the fitted teacher, on which the student learns the
        teacher's targets only (the hard-label term uses the real rows).
        ``"munge"`` is :class:`~sklearn_kd.augment.MUNGE`, ``"gaussian"``
        :class:`~sklearn_kd.augment.GaussianAugmenter`, each with its
        default parameters; pass an instance to set them (they are then
        tunable as ``augment__<name>``, e.g. ``augment__swap_probability``;
        the names have no parameters to tune) or any object with ``fit(X)``
        and ``sample(n_samples, random_state)``. A clone is fitted, its
        ``random_state`` drawn from this estimator's. Rows are drawn in the
        features this estimator receives (after the preceding steps of a
        Pipeline), missing values included; with categorical columns, in the
        student's encoding, and the teacher labels the nearest table rows
        (see :ref:`missing_values`). Needs a ``teacher`` (not
        ``teacher_proba``), ``loss="kd"``, ``knowledge="full"`` and
        ``alpha > 0``. See :ref:`compression`.

    augment_size : float, default=10
        Synthetic rows per training row (rounded to a whole number of rows).
        The teacher labels them once per fit, in batches.

    augment_regenerate : bool, default=False
        Draw and label a fresh transfer set before every epoch instead of
        once per fit; it costs one teacher prediction on the transfer set per
        epoch.

    architecture : {"auto", "most-accurate", "mlp", "resnet", "ple", \
"ple-tree", "ple-teacher", "periodic"}, default="auto"
        The built-in student (``module=None`` only): ``"mlp"`` is
        :class:`~sklearn_kd.MLPStudent`; the others are
        :class:`~sklearn_kd.TabularStudent` with residual blocks
        (``"resnet"``), a piecewise-linear encoding of each feature on
        quantile bins (``"ple"``), on the bins of a decision tree grown on
        the labels (``"ple-tree"``) or on the teacher's own split thresholds
        when it is a scikit-learn tree ensemble (``"ple-teacher"``, quantile
        bins otherwise), or periodic embeddings (``"periodic"``), after
        Gorishniy et al. (2022). ``hidden_layer_sizes`` sets the widths.

        ``"auto"`` chooses from a ladder of three students, cheapest first
        in multiply-adds per row: the piecewise-linear encoding (on the
        teacher's thresholds for a tree ensemble, else on quantile bins)
        with no hidden layer, the perceptron, and the encoding followed by
        ``hidden_layer_sizes``. Each trains on 80 % of the rows (no
        ``callbacks``), stopped on its loss on the other 20 % and returned
        to its best epoch, and is scored there by its log-loss on the hard
        labels. ``"auto"`` takes the cheapest student whose log-loss
        exceeds the best one's by less than 1.96 standard errors of their
        paired per-row difference, ``"most-accurate"`` the one of lowest
        log-loss; that student is then trained again on all rows for the
        epochs that were best for it. A fit thus costs about three and a
        half fits of one student. With fewer than about 150 rows the
        perceptron is taken without a comparison. ``architecture_`` and
        ``architecture_scores_`` say what was chosen and why; see
        :ref:`student_ladder`.

    n_bins : int, default=16
        Bins per feature of the piecewise-linear encodings.

    unlabelled : int, str or None, default=None
        The value of ``y`` that marks a row without a label. ``None`` (the
        default) treats every value of ``y`` as a class, so labels such as
        ``{-1, 0, 1}`` or ``{-1, 1}`` keep all their classes. Pass
        ``unlabelled=-1`` to follow scikit-learn's semi-supervised
        convention (as in
        :class:`~sklearn.semi_supervised.SelfTrainingClassifier`): those
        rows are left out of the teacher's fit and train the student on the
        teacher's targets alone. See :ref:`unlabelled_rows`.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
        The global torch RNG is left untouched.

    n_threads : int or None, default=None
        torch threads used by ``fit`` and the predict methods. None chooses
        from the size of the work: one thread for small networks and
        batches (faster, and safe on a busy machine), otherwise the threads
        torch may use in this process, which respects ``OMP_NUM_THREADS``,
        threadpoolctl and joblib's per-worker limits under
        ``GridSearchCV(n_jobs=...)``. An integer asks for that many, and
        also caps the teacher's OpenMP and BLAS threads during ``fit``. The
        process's torch setting is restored afterwards. See
        :ref:`threads`.

    verbose : int, default=0
        0 is silent; 1 prints skorch's per-epoch table (plain text unless
        printed to a terminal).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.
    teacher_ : estimator or None
        The fitted (or frozen) teacher; None with ``teacher_proba``. Its
        ``classes_`` are ``classes_`` (an
        :class:`~sklearn_kd.teachers.EncodedLabelsTeacher` around a teacher
        fitted on label indices).
    student_ : skorch.NeuralNet
        The trained student network; ``student_.module_`` is the module.
    history_ : skorch.History
        Per-epoch training (and validation) losses.
    n_iter_ : int
        Number of epochs run.
    encoder_ : object or None
        The student's encoding of the string and categorical columns of a
        DataFrame ``X`` (numeric columns as they are, then one-hot blocks;
        a level unseen in fit is all zeros), fitted on the training rows;
        None when ``X`` has no such column. See :ref:`missing_values`.
    architecture_ : str or None
        The built-in student that was trained: ``architecture``, or for
        ``"auto"`` and ``"most-accurate"`` the architecture of the chosen
        student (``"mlp"``, ``"ple-teacher"`` or ``"ple"``); None with a
        custom ``module``.
    architecture_scores_ : dict or None
        For ``"auto"`` and ``"most-accurate"``: by student of the ladder
        (``"linear on bins"``, ``"perceptron"``, ``"bins + hidden
        layers"``), its ``architecture``, ``hidden_layer_sizes``,
        ``log_loss`` and ``accuracy`` on the held-out rows' labels, its
        ``fidelity`` there (agreement with the teacher's top class; None
        without a teacher), its ``excess_loss`` over the best
        student and the ``allowance`` within which it counted as as good,
        ``cost`` (multiply-adds per row), best ``epochs``, ``fit_seconds``
        and whether it was ``chosen``; and under ``"rule"`` the
        ``selection`` and the number of held-out rows ``n_held_out``. None
        otherwise, and when there were too few rows to compare.
    knowledge_params_ : Bunch or None
        Constants of the knowledge level estimated on the training rows.
    teacher_stats_ : Bunch or None
        Summary of the teacher's targets on the training rows, softened at
        ``temperature`` (true-class confidence, non-target mass, the
        instance weight of identity E4 in :ref:`theory`; see
        :func:`sklearn_kd.diagnostics.teacher_diagnostics`). A warning
        (:class:`~sklearn_kd.OverconfidentTeacherWarning`) is raised when
        they are nearly one-hot.

    Notes
    -----
    The student accepts what the teacher accepts. Missing values (NaN)
    are accepted when the teacher's scikit-learn tags allow them
    (``input_tags.allow_nan``: histogram gradient boosting, forests, a
    ``FrozenEstimator`` of one), or when its own fit on the rows succeeds
    (a pipeline that imputes, a teacher from another library); never with
    ``teacher_proba`` alone (nothing vouches for those rows) or a custom
    ``module``. The built-in students then replace a missing value by the
    feature's training mean and add a missing indicator per feature that
    had NaN in fit, inside the network, so that prediction, persistence and
    ONNX export compute the same. String and categorical columns of a
    DataFrame are one-hot encoded for the student (up to 64 levels per
    column) while the teacher receives the DataFrame. See
    :ref:`missing_values`.

    On CPU the same ``random_state`` gives bitwise-identical predictions, in
    one process or across processes. On a GPU, cuDNN/cuBLAS kernels may be
    non-deterministic, so runs agree only closely; the estimator's
    ``non_deterministic`` tag is True when ``device`` names a CUDA device.
    A pickled estimator trained on a GPU loads on a machine without one: its
    student is mapped to the CPU (skorch warns with a ``DeviceWarning``).
    For saving without pickle see :mod:`sklearn_kd.persistence`.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same student on hard labels.
    sklearn.frozen.FrozenEstimator : Use a pre-fitted teacher as it is.

    References
    ----------
    Hinton, Vinyals, Dean. Distilling the Knowledge in a Neural Network, 2015.
    Tang et al. Understanding and Improving Knowledge Distillation, 2020.
    Zhao et al. Decoupled Knowledge Distillation, CVPR 2022.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn_kd import DistilledClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=20, random_state=0),
    ...     temperature=2.0, alpha=0.7, teacher_cv=3, max_epochs=20,
    ...     hidden_layer_sizes=(16,), random_state=0,
    ... ).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> clf.score(X, y) > 0.8
    True
    """

    _parameter_constraints: dict = {
        "teacher": [None, StrOptions({"self"}), HasMethods(["fit", "predict_proba"])],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "loss": [StrOptions(set(LOSSES))],
        "knowledge": [StrOptions(set(KNOWLEDGE_LEVELS))],
        "tckd_weight": [Interval(Real, 0, None, closed="left")],
        "nckd_weight": [Interval(Real, 0, None, closed="left")],
        "scale_t2": ["boolean"],
        "teacher_cv": [
            None,
            StrOptions({"auto"}),
            Interval(Integral, 2, None, closed="left"),
            "cv_object",
        ],
        "module": [None, nn.Module, type],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type, functools.partial],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "class_weight": [None, StrOptions({"balanced"}), dict],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [None, Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "callbacks": [None, list],
        "device": [str, torch.device],
        "memory": [None, str, HasMethods(["cache"])],
        "teacher_top_k": [None, Interval(Integral, 1, None, closed="left")],
        "augment": [
            None,
            StrOptions({"munge", "gaussian"}),
            HasMethods(["fit", "sample"]),
        ],
        "augment_size": [Interval(Real, 0, None, closed="neither")],
        "augment_regenerate": ["boolean"],
        "architecture": [StrOptions({*ARCHITECTURE_OPTIONS, *SELECTIONS})],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "unlabelled": [None, Integral, str],
        "random_state": ["random_state"],
        "n_threads": [None, Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        teacher=None,
        *,
        temperature=1.0,
        alpha=0.5,
        loss="kd",
        knowledge="full",
        tckd_weight=1.0,
        nckd_weight=1.0,
        scale_t2=True,
        teacher_cv="auto",
        module=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        max_epochs=100,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        callbacks=None,
        device="cpu",
        memory=None,
        teacher_top_k=None,
        augment=None,
        augment_size=10,
        augment_regenerate=False,
        architecture="auto",
        n_bins=16,
        unlabelled=None,
        random_state=None,
        n_threads=None,
        verbose=0,
    ):
        self.teacher = teacher
        self.temperature = temperature
        self.alpha = alpha
        self.loss = loss
        self.knowledge = knowledge
        self.tckd_weight = tckd_weight
        self.nckd_weight = nckd_weight
        self.scale_t2 = scale_t2
        self.teacher_cv = teacher_cv
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.device = device
        self.memory = memory
        self.teacher_top_k = teacher_top_k
        self.augment = augment
        self.augment_size = augment_size
        self.augment_regenerate = augment_regenerate
        self.architecture = architecture
        self.n_bins = n_bins
        self.unlabelled = unlabelled
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

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
        self : DistilledClassifier
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
            if sep and name in _NESTED:
                # the value in place once this call has set the plain names
                value = params.get(name, getattr(self, name))
                if not hasattr(value, "set_params"):
                    raise ValueError(
                        f"{key} sets a parameter of the {_NESTED[name]}, which needs "
                        f"{name} to be an estimator; got {name}={value!r}. "
                        + _nested_hint(name, value, arg)
                    )
        return super().set_params(**params)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    @_native_threads
    def fit(self, X, y, teacher_proba=None, sample_weight=None, **fit_params):
        """Fit the teacher (unless frozen or precomputed), then the student.

        The data and every parameter are checked before anything is fitted:
        a bad student setting never costs a teacher fit.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training features. The teacher receives ``X`` as given (a
            DataFrame stays one); the student its numeric float32 copy,
            with each string or categorical column of a DataFrame one-hot
            encoded (``encoder_``). Missing values (NaN) are accepted when
            the teacher accepts them (see :ref:`missing_values`).
        y : array-like of shape (n_samples,)
            Hard labels (any labels: ints, strings, booleans); every value
            is a class. Only when ``unlabelled`` is set (for example
            ``unlabelled=-1``, scikit-learn's semi-supervised convention;
            use an object array to mix it with string labels) do rows with
            that value count as unlabelled: the teacher is fitted on the
            labelled rows only, unlabelled rows train the student on the
            teacher's targets alone, and ``classes_`` never holds the
            marker.
        teacher_proba : array-like of shape (n_samples, n_classes), \
default=None
            Precomputed teacher probabilities, columns in ``classes_`` order
            (sorted labels), each row summing to 1 within 1e-4. Only with
            ``teacher=None``. Sliced per fold by ``GridSearchCV``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of each row in the student's loss (each row's loss is
            multiplied by its weight before the batch mean). Without metadata
            routing it is also passed to the teacher's ``fit`` when that
            accepts ``sample_weight``; with routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``) the teacher
            receives it only if it asked for it with
            ``teacher.set_fit_request(sample_weight=True)``.
        **fit_params : dict
            Passed to the teacher's ``fit`` (through metadata routing when
            enabled).

        Returns
        -------
        self : DistilledClassifier
            The fitted estimator.
        """
        # 1. the data and every parameter; nothing is fitted yet
        data = self._check_data(X, y, teacher_proba, sample_weight)
        settings = self._check_settings(data, fit_params)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))

        # 2. the teacher's probabilities, once (fitted on the labelled rows)
        lab = data.labelled
        some_unlabelled = not lab.all()
        fit_params = settings.teacher_fit_params
        if some_unlabelled and "sample_weight" in fit_params:
            fit_params = {**fit_params,
                          "sample_weight": fit_params["sample_weight"][lab]}
        with self._teacher_meets_the_data(data):
            teacher = teacher_probabilities(
                self._teacher_estimator(rng),
                _safe_indexing(data.X_teacher, lab)
                if some_unlabelled
                else data.X_teacher,
                data.y[lab],
                data.classes,
                proba=(
                    data.teacher_proba[lab]
                    if some_unlabelled and data.teacher_proba is not None
                    else data.teacher_proba  # all labelled: no copy of the matrix
                ),
                cv=resolve_teacher_cv(self.teacher_cv, self.teacher),
                fit_params=fit_params,
                memory=self.memory,
            )
            if teacher is not None and some_unlabelled:
                proba = np.empty((len(data.y), len(data.classes)))
                proba[lab] = teacher.proba
                if data.teacher_proba is not None:
                    proba[~lab] = data.teacher_proba[~lab]
                else:
                    proba[~lab] = teacher_label(
                        teacher.teacher,
                        _safe_indexing(data.X_teacher, ~lab),
                        len(data.classes),
                        data.classes,
                    )
                teacher.proba = proba

        # 3. the teacher softened once: its statistics (on the labelled
        # rows), the knowledge level and the student's targets
        inputs = {FEATURES: data.X}
        soft = Bunch(stats=None, targets=None, knowledge_params=None)
        # torch's work before training (softening, bins, the module's
        # initialisation) is small: one thread under n_threads=None
        setup_threads = functools.partial(thread_scope, self.n_threads, 0)
        if teacher is not None:
            with setup_threads():
                soft = soften_teacher(
                    teacher.proba,
                    # rows without a label take the teacher's top class (which
                    # the statistics leave out)
                    np.where(lab, data.y_idx, teacher.proba.argmax(axis=1)),
                    temperature=self.temperature,
                    alpha=self.alpha,
                    knowledge=self.knowledge,
                    top_k=self.teacher_top_k,
                    labelled=lab if some_unlabelled else None,
                    build_targets=self._needs_teacher(),
                    random_state=seed,
                )
        if soft.targets is not None:
            self._warn_if_overconfident(soft.stats)
            inputs.update(target_inputs(soft.targets))
        if data.student_weight is not None:
            inputs[SAMPLE_WEIGHT] = data.student_weight

        # 4. the student (chosen from the ladder for "auto"), 5. its training
        rng_devices = _rng_devices(settings.device)
        fitted_teacher = None if teacher is None else teacher.teacher
        hidden_layer_sizes, choice = settings.hidden_layer_sizes, None
        architecture = self.architecture
        if self.module is None and architecture in SELECTIONS:
            choice = self._choose_student(
                data, inputs, teacher, soft, settings, seed, rng_devices
            )
            architecture = "mlp" if choice is None else choice.architecture
            if choice is not None:
                hidden_layer_sizes = choice.hidden_layer_sizes
        with setup_threads(), torch.random.fork_rng(devices=rng_devices):
            torch.manual_seed(seed)
            built = self._built_in_student(data, fitted_teacher, architecture)
            module = make_student_module(
                self.module,
                data.X.shape[1],
                len(data.classes),
                hidden_layer_sizes=hidden_layer_sizes,
                activation=self.activation,
                X=data.X,
                missing=settings.missing,
                **built,
            )
        # 4b. the transfer set: synthetic rows after the real ones
        y_idx, extra_callbacks = data.y_idx, []
        if self.augment is not None:
            make = self._transfer_set_maker(
                data, teacher.teacher, rng, allow_nan=settings.missing is not None
            )
            n_new = int(round(self.augment_size * len(data.X)))
            if n_new:
                inputs, y_idx = append_rows(
                    inputs, y_idx, make(n_new), data.student_weight
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
        student = build_student_net(
            module,
            params,
            device=settings.device,
            n_rows=len(y_idx),
            seed=seed,
            y_idx=y_idx,
            extra_callbacks=extra_callbacks,
            n_classes=len(data.classes),
        )
        work = _student_work(module, student.batch_size)
        try:
            with thread_scope(self.n_threads, work):
                with torch.random.fork_rng(devices=rng_devices):
                    torch.manual_seed(seed)
                    student.fit(inputs, y_idx)
        finally:
            # 6. every fitted attribute, in one place; also when training
            # stops with an error, so that the half-trained student can be
            # inspected (its predictions refuse non-finite logits)
            set_fitted(
                self,
                classes_=data.classes,
                teacher_=None if teacher is None else teacher.teacher,
                student_=student,
                teacher_stats_=soft.stats,
                knowledge_params_=soft.knowledge_params,
                architecture_=built["architecture"],
                architecture_scores_=None if choice is None else choice.scores,
                encoder_=data.encoder,
            )
        return self

    def _check_data(self, X, y, teacher_proba, sample_weight):
        """The validated training data, as a Bunch. ``validate_data``
        records ``n_features_in_`` (and ``feature_names_in_``), as in every
        scikit-learn estimator; no other attribute is set."""
        data = Bunch(X_teacher=X, encoder=None)  # the teacher sees X as given
        check = dict(
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
            ensure_all_finite="allow-nan",  # NaN: see _check_missing
        )
        if categorical_columns(X):
            # the features of the user's X; the student sees their encoding
            validate_data(self, X, skip_check_array=True)
            data.encoder = TableEncoder().fit(X)
            data.X, data.y = check_X_y(data.encoder.transform(X), y, **check)
        else:
            data.X, data.y = validate_data(self, X, y, **check)
        _check_float32_range(data.X)
        data.missing = missing_features(data.X)
        data.labelled = labelled_mask(data.y, self.unlabelled)
        if not data.labelled.any():
            raise ValueError(
                f"y must hold labelled rows (y != {self.unlabelled!r}) to define "
                "the classes; got only unlabelled rows. Pass unlabelled=None "
                "if that value is a class."
            )
        check_classification_targets(data.y[data.labelled])
        data.classes, y_lab = np.unique(data.y[data.labelled], return_inverse=True)
        data.y_idx = np.full(len(data.y), NO_LABEL, dtype=np.int64)
        data.y_idx[data.labelled] = y_lab
        if len(data.classes) < 2:
            hint = ""
            if not data.labelled.all():
                hint = (
                    f" The {int((~data.labelled).sum())} rows with "
                    f"y == {self.unlabelled!r} are unlabelled; if that is a "
                    "class, pass unlabelled=None."
                )
            raise ValueError(
                "y must hold at least 2 classes to train a classifier; got 1 "
                f"class: {data.classes.tolist()!r}.{hint}"
            )
        data.sample_weight = sample_weight
        if sample_weight is not None:
            data.sample_weight = _check_sample_weight(
                sample_weight, data.X, dtype=np.float64, ensure_non_negative=True
            )
        # the student's row weights: sample_weight times class_weight
        data.student_weight = data.sample_weight
        if self.class_weight is not None:
            factor = np.ones(len(data.y))
            factor[data.labelled] = _class_weight_factors(
                self.class_weight, data.classes, data.y_idx[data.labelled]
            )
            data.student_weight = (
                factor if data.sample_weight is None else factor * data.sample_weight
            )
        data.teacher_proba = teacher_proba
        if teacher_proba is not None:
            if self.teacher is not None:
                raise ValueError(
                    "Pass either a teacher or teacher_proba, not both: got "
                    f"teacher={self.teacher!r} and a teacher_proba array."
                )
            data.teacher_proba = check_teacher_proba(
                teacher_proba, "teacher_proba", len(data.y), len(data.classes)
            )
        elif self.teacher is None and self._needs_teacher():
            raise ValueError(
                "DistilledClassifier needs a teacher: pass teacher=<estimator> "
                "or fit(X, y, teacher_proba=...), or set alpha=0 (hard labels "
                f"only) or loss='label_smoothing'; got teacher=None, "
                f"alpha={self.alpha!r}, loss={self.loss!r}."
            )
        return data

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
        device = self._check_device()
        hidden_layer_sizes = None
        if self.module is None:
            hidden_layer_sizes = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        _check_class(self.module, nn.Module, "module")
        optimizer = optimizer_class(self.optimizer)
        if optimizer is not self.optimizer and not inspect.isclass(optimizer):
            raise TypeError(
                "optimizer given as a functools.partial must wrap a "
                f"torch.optim.Optimizer subclass; got {self.optimizer!r}."
            )
        _check_class(optimizer, torch.optim.Optimizer, "optimizer")
        callbacks = check_callbacks(self.callbacks)
        if self.early_stopping:
            self._check_validation_split(np.bincount(y_lab_idx(data)))
        else:
            _check_no_validation_callbacks(callbacks)
        self._check_label_free_rows(data)
        cv = resolve_teacher_cv(self.teacher_cv, self.teacher)
        if cv is not None and cv != "oob" and self.teacher is not None:
            self._check_teacher_cv(y_lab_idx(data))
        return Bunch(
            device=device,
            hidden_layer_sizes=hidden_layer_sizes,
            missing=self._check_missing(data),
            teacher_fit_params=self._teacher_fit_params(
                data.sample_weight, fit_params
            ),
        )

    def _accepts_missing(self):
        """Whether this estimator accepts NaN in ``X``: True, False, or None
        when only its teacher's fit can tell (see :func:`teacher_accepts_nan`)."""
        if self.module is not None:
            return False  # a custom module receives the raw features
        if isinstance(self.teacher, str):
            return True  # born-again: the first student handles NaN too
        if self.teacher is None:
            # no teacher needed: the student alone learns from the rows;
            # teacher_proba: no teacher answers for the rows with NaN
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
            missing = _source(data.encoder, data.missing)
            raise ValueError(_missing_message(self, "X", missing, fit=True))
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
                and any(hint in said for hint in _CATEGORICAL_HINTS)
            ):
                teacher = _teacher_name(self.teacher)
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
            missing = _source(data.encoder, data.missing)
            raise ValueError(
                _missing_message(self, "X", missing, fit=True, refused=exc)
            ) from None

    def _check_label_free_rows(self, data):
        """Rows without a hard label need a teacher and the plain KD loss."""
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
        what = " and ".join(what)
        if self.augment is not None and self.teacher is None:
            raise ValueError(
                f"augment={self.augment!r} draws new rows that a teacher must "
                "label, but teacher=None (teacher_proba only covers the "
                "training rows). Pass teacher=<estimator> or set augment=None."
            )
        if self.loss != "kd" or self.knowledge != "full" or self.alpha == 0:
            raise ValueError(
                f"Training with {what} learns the teacher's targets on rows "
                "without a hard label, which needs loss='kd', knowledge='full' "
                f"and alpha > 0; got loss={self.loss!r}, "
                f"knowledge={self.knowledge!r}, alpha={self.alpha!r}."
            )

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
            X, y = X[data.labelled], data.y_idx[data.labelled]
        return dict(
            architecture=architecture,
            bins=compute_bins(X, self.n_bins, y=y, thresholds=thresholds),
        )

    def _choose_student(self, data, inputs, teacher, soft, settings, seed,
                        rng_devices):
        """The ladder of :mod:`sklearn_kd._ladder` on these rows: each rung
        trained on most of them and scored on the others by its
        agreement with the teacher's top class (the hard label without
        teacher targets). None when too few rows can be held out."""
        fitted_teacher = None if teacher is None else teacher.teacher
        encoding = "ple"
        if fitted_teacher is not None and self._student_thresholds(
            data, fitted_teacher
        ) is not None:
            encoding = "ple-teacher"
        # scored on the hard labels of held-out labelled rows; the agreement
        # with the teacher's top class is reported beside
        rows = np.flatnonzero(data.labelled)
        teacher_top = None if teacher is None else teacher.proba.argmax(axis=1)
        # a user's checkpoints and logs see the final fit only
        params = {**self.get_params(deep=False), "callbacks": None, "verbose": 0}

        def train_rung(architecture, hidden, train, held_out):
            with thread_scope(self.n_threads, 0), torch.random.fork_rng(
                devices=rng_devices
            ):
                torch.manual_seed(seed)
                built = self._built_in_student(data, fitted_teacher, architecture)
                module = make_student_module(
                    None,
                    data.X.shape[1],
                    len(data.classes),
                    hidden_layer_sizes=hidden,
                    activation=self.activation,
                    X=data.X,
                    missing=settings.missing,
                    **built,
                )
            # stopped on the held-out rows' loss, with the best epoch's weights
            stop = self.n_iter_no_change is not None
            net = build_student_net(
                module,
                {**params, "early_stopping": stop},
                device=settings.device,
                n_rows=len(train),
                seed=seed,
                n_classes=len(data.classes),
            )
            rows = np.concatenate([train, held_out])
            if stop:
                net.set_params(train_split=HeldOutRows(len(train)))
            else:
                rows = train
            work = _student_work(module, net.batch_size)
            with thread_scope(self.n_threads, work):
                with torch.random.fork_rng(devices=rng_devices):
                    torch.manual_seed(seed)
                    net.fit(subset(inputs, rows), data.y_idx[rows])
            epochs = len(net.history)
            if stop:
                best = np.flatnonzero(net.history[:, "valid_loss_best"])
                epochs = int(best[-1]) + 1 if len(best) else epochs
            rows = torch.from_numpy(np.asarray(data.X[held_out], dtype=np.float32))
            net.module_.train(False)
            with thread_scope(self.n_threads, 0), torch.inference_mode():
                logits = net.module_(rows).numpy()
            return logits, _student_work(module, 1), epochs

        return run_ladder(
            train_rung,
            data.y_idx,
            rows,
            settings.hidden_layer_sizes,
            encoding,
            seed,
            self.architecture,
            teacher_top=teacher_top,
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

    def _transfer_set_maker(self, data, fitted_teacher, rng, allow_nan=False):
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
        classes, temperature, top_k = data.classes, self.temperature, self.teacher_top_k
        encoder = data.encoder

        def make(n_rows):
            X_new = draw(augmenter, n_rows, draw_rng, X.shape[1], allow_nan)
            X_teacher, names = X_new, feature_names
            if encoder is not None:
                # the teacher labels the table whose encoding is nearest the
                # drawn rows (each categorical column takes the level of its
                # largest one-hot entry); the student learns its encoding
                X_teacher, names = encoder.inverse_transform(X_new), None
                X_new = encoder.transform(X_teacher)
            proba = teacher_label(
                fitted_teacher, X_teacher, len(classes), classes, names
            )
            targets = soften_teacher(
                proba, proba.argmax(axis=1), temperature=temperature, top_k=top_k
            ).targets
            return {FEATURES: X_new.astype(X.dtype), **target_inputs(targets)}

        return make

    def _check_device(self):
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"device must name a torch device such as 'cpu' or 'cuda'; got "
                f"{self.device!r} ({exc})."
            ) from None
        problem = _device_problem(device)
        if problem is not None:
            available = ", ".join(repr(d) for d in _available_devices())
            raise ValueError(
                f"device={self.device!r} was requested but {problem}; "
                f"devices torch can use here: {available}."
            )
        return device

    def _check_teacher_cv(self, y):
        if is_frozen(self.teacher):
            raise ValueError(
                "teacher_cv needs a teacher that can be refitted per fold; "
                "a FrozenEstimator is never refitted. Use teacher_cv=None "
                "(its predictions on these rows are out-of-sample if it was "
                "fitted elsewhere) or pass the unfitted estimator; got "
                f"teacher_cv={self.teacher_cv!r}."
            )
        splitter = check_cv(self.teacher_cv, y, classifier=True)
        n_splits = splitter.get_n_splits()
        if not hasattr(self.teacher_cv, "split") and not isinstance(
            self.teacher_cv, numbers.Integral
        ):
            # An explicit list of (train, test) folds: the out-of-fold
            # probabilities need every labelled row in exactly one test fold.
            tests = [np.asarray(test) for _, test in splitter.split(y, y)]
            test = np.concatenate(tests) if tests else np.empty(0, dtype=int)
            if not np.array_equal(np.sort(test), np.arange(len(y))):
                raise ValueError(
                    "teacher_cv given as (train, test) index pairs must put "
                    f"each of the {len(y)} labelled rows in exactly one test "
                    f"fold; got {len(tests)} folds whose test parts hold "
                    f"{len(test)} indices ({len(np.unique(test))} distinct)."
                )
        counts = np.unique(y, return_counts=True)[1]
        if len(y) < n_splits or counts.min() < n_splits:
            raise ValueError(
                f"teacher_cv={self.teacher_cv!r} makes {n_splits} folds, which "
                f"needs at least {n_splits} rows of every class; got "
                f"{len(y)} rows and a smallest class of {counts.min()} rows."
            )

    def _check_validation_split(self, y_counts):
        n_classes = len(y_counts)
        n = int(y_counts.sum())
        n_valid = int(np.ceil(self.validation_fraction * n))
        if y_counts.min() < 2 or n_valid < n_classes or n - n_valid < n_classes:
            raise ValueError(
                "early_stopping=True holds out a stratified validation split of "
                f"validation_fraction={self.validation_fraction!r}, which needs "
                "at least 2 rows of every class and at least n_classes rows on "
                f"each side; got {n} rows, {n_classes} classes and a smallest "
                f"class of {y_counts.min()} rows."
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
            and _accepts_sample_weight(self.teacher)
        ):
            fit_params["sample_weight"] = sample_weight
        return fit_params

    def get_metadata_routing(self):
        """Metadata routing of this estimator.

        ``sample_weight`` and ``teacher_proba`` are consumed by the student;
        the teacher's ``fit`` receives what it requested.

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

    def _needs_teacher(self):
        return self.alpha > 0 and self.loss != "label_smoothing"

    def _teacher_estimator(self, rng):
        """The estimator that teaches: ``teacher``, or for ``"self"`` a first
        student of the same architecture trained on the hard labels."""
        if not isinstance(self.teacher, str):
            return self.teacher
        return clone(self).set_params(
            teacher=None,
            alpha=0.0,
            loss="kd",
            knowledge="full",
            teacher_cv=None,
            memory=None,
            random_state=int(rng.randint(np.iinfo(np.int32).max)),
        )

    def _warn_if_overconfident(self, stats):
        if is_overconfident(stats):
            warnings.warn(
                "The teacher is nearly one-hot on the training rows (mean "
                f"non-target mass {stats.mean_non_target_mass:.2g}): it passes "
                "on little beyond the hard labels. Use teacher_cv for "
                "out-of-fold probabilities, a higher temperature, or an "
                "early-stopped teacher.",
                OverconfidentTeacherWarning,
                stacklevel=_caller_stacklevel(),
            )

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
        """``X`` as a float32 array, checked as ``validate_data(self, X,
        reset=False)`` checks it.

        A float32 or float64 ndarray with the fitted number of columns, on
        an estimator fitted without feature names or categorical columns,
        is exactly what ``validate_data`` returns unchanged once it is
        finite: only its finiteness (and, for float64, the float32 range)
        is checked here, with one sum. Anything else, or a sum that is not
        finite (NaN, which a student that handles missing values accepts),
        goes through ``validate_data``, the encoding of categorical columns
        and the missing-value checks, with their errors and warnings.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in _FLOAT_DTYPES
            and X.shape[0] >= 1
            and X.shape[1] == self.n_features_in_
            and "feature_names_in_" not in self.__dict__
            and self.__dict__.get("encoder_") is None
        ):
            # values out of float32 range become inf; a float64 sum of float32
            # values cannot overflow, so it is finite exactly when every
            # value is finite and within float32 range
            with np.errstate(over="ignore", invalid="ignore"):
                # C-ordered float32 as it is, anything else copied once
                rows = np.ascontiguousarray(X, dtype=np.float32)
                finite = np.isfinite(rows.sum(dtype=np.float64))
            if finite:
                return rows
        check = dict(dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
        encoder = getattr(self, "encoder_", None)
        if encoder is None:
            X = validate_data(self, X, reset=False, **check)
        else:
            validate_data(self, X, reset=False, skip_check_array=True)
            X = check_array(encoder.transform(X), **check)
        _check_float32_range(X)
        if not getattr(self.student_.module_, "handles_missing", False):
            missing = missing_features(X)
            if len(missing):
                missing = _source(encoder, missing)
                raise ValueError(_missing_message(self, "X", missing, fit=False))
        return np.ascontiguousarray(X, dtype=np.float32)

    def _logits_t(self, X):
        """The student's float32 logits on ``X``, transposed (classes, rows),
        as a CPU tensor: softmax and argmax over a short first axis of a
        contiguous tensor are several times faster than over a short last
        axis."""
        plan = self._inference_plan()
        X = self._rows(X)
        n_threads = getattr(self, "n_threads", None)
        work = min(X.shape[0], INFERENCE_BATCH_SIZE) * plan.row_work
        threads = resolve_threads(n_threads, work)
        # set even when torch already reports it, and restored after, as
        # thread_scope does: torch's MKL, which threadpoolctl cannot reach,
        # then agrees with its OpenMP pool
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            logits = plan.logits_t(torch.from_numpy(X))
        finally:
            torch.set_num_threads(previous)
        # a float32 sum of finite logits may overflow; look closer only then
        if not math.isfinite(float(logits.sum())):
            bad = ~torch.isfinite(logits).all(dim=0)
            if bad.any():
                raise ValueError(
                    "The student's logits must be finite to give probabilities; "
                    f"got non-finite logits for {int(bad.sum())} of {X.shape[0]} "
                    "rows of X. X lies far outside the range seen in fit (it "
                    "overflows float32 inside the network), or fit diverged "
                    "(lower lr)."
                )
        return logits

    def predict_proba(self, X):
        """Class probabilities of the student (softmax at T = 1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to score.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in ``classes_`` order; rows sum to 1.
        """
        # over the classes of the transposed logits (a Fortran-ordered result)
        return torch.softmax(self._logits_t(X).double(), dim=0).t().numpy()

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits."""
        return torch.log_softmax(self._logits_t(X).double(), dim=0).t().numpy()

    def predict(self, X):
        """Predicted labels, taken from ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to label, with the features seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        index = self._logits_t(X).argmax(dim=0).numpy()
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = str(self.device).startswith("cuda")
        tags.input_tags.allow_nan = bool(self._accepts_missing())
        return tags


def teacher_accepts_nan(teacher):
    """Whether a teacher accepts missing values (NaN) in ``X``.

    Read from scikit-learn's estimator tags (``input_tags.allow_nan``,
    through a :class:`~sklearn.frozen.FrozenEstimator`): True for the
    estimators that handle NaN natively, such as histogram gradient
    boosting and the forests. A scikit-learn estimator whose tags say no
    refuses NaN (False). A :class:`~sklearn.pipeline.Pipeline` (whose tags
    do not tell whether a step imputes) and any estimator from another
    library give None: their own fit on the rows with NaN decides.

    Parameters
    ----------
    teacher : estimator

    Returns
    -------
    accepts : bool or None
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import Pipeline

    while isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    try:
        allow_nan = get_tags(teacher).input_tags.allow_nan
    except Exception:  # tags that cannot be read: let the fit decide
        return None
    if allow_nan:
        return True
    if isinstance(teacher, Pipeline) or not type(teacher).__module__.startswith(
        "sklearn."
    ):
        return None
    return False


#: Words of a teacher's error that point at the categorical columns of X.
_CATEGORICAL_HINTS = ("convert", "string", "str ", "categor", "dtype", "object")


def _teacher_name(teacher):
    """The class name of a teacher, through a FrozenEstimator."""
    from sklearn.frozen import FrozenEstimator

    while isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    return type(teacher).__name__


def _source(encoder, columns):
    """The columns of the user's X behind the student's ``columns``."""
    if encoder is None:
        return columns
    return np.unique(encoder.source_[columns])


def _missing_message(estimator, name, missing, *, fit, refused=None):
    """Why ``X`` with NaN in the columns ``missing`` is refused, and what to
    do instead."""
    columns = [int(j) for j in missing[:5]]
    names = getattr(estimator, "feature_names_in_", None)
    where = (
        f"columns {[str(names[j]) for j in columns]!r}"
        if names is not None
        else f"feature indices {columns!r}"
    ) + (" and more" if len(missing) > 5 else "")
    impute = (
        "impute in front of this estimator, e.g. make_pipeline("
        "SimpleImputer(add_indicator=True), DistilledClassifier(...))"
    )
    if not fit:
        return (
            f"Input {name} contains NaN ({where}), which this student refuses: "
            "it was trained to, because its teacher does not accept missing "
            f"values (or its module is a custom one). {impute[0].upper()}"
            f"{impute[1:]}, or distil a teacher that accepts missing values."
        )
    if estimator.module is not None:
        why = (
            f"module={estimator.module!r} is a custom module, which receives "
            "the raw features and must not see NaN. Use module=None (the "
            f"built-in students handle missing values) or {impute}"
        )
    elif estimator.teacher is None:
        why = (
            "only teacher_proba was given, so no teacher vouches for rows "
            "with missing values. Pass the teacher itself "
            "(teacher=FrozenEstimator(model)) if it accepts NaN, or "
            f"{impute}"
        )
    else:
        teacher = _teacher_name(estimator.teacher)
        detail = "" if refused is None else " (its fit refused them)"
        why = (
            f"the teacher {teacher} does not accept missing values{detail}. "
            f"Either {impute}, or distil a teacher that accepts missing "
            "values: the student then handles them itself"
        )
    return f"Input {name} contains NaN ({where}): {why}."


def _available_devices():
    """The devices torch can train on in this process, as strings."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def _device_problem(device):
    """Why torch cannot use ``device`` here, or None when it can."""
    if device.type == "cpu":
        return None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "no CUDA GPU is available to torch on this machine"
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            return f"torch sees {count} CUDA GPU(s), numbered from 0"
        return None
    if device.type == "meta":
        return "the meta device holds no data to train on"
    if device.type == "mps" and not torch.backends.mps.is_available():
        return (
            "torch.backends.mps.is_available() is False (MPS needs an Apple "
            "GPU and a torch build with MPS)"
        )
    try:  # any other backend: can it hold a tensor?
        torch.empty(0, device=device)
    except Exception as exc:  # each backend raises its own type
        return f"torch cannot place a tensor there ({type(exc).__name__})"
    return None


def _check_float32_range(X):
    """The student computes in float32: refuse X that would overflow it."""
    if X.dtype == np.float32 or not X.size:  # finite float32 is in range
        return
    limit = float(np.finfo(np.float32).max)
    biggest = max(float(np.nanmax(X, initial=0.0)), -float(np.nanmin(X, initial=0.0)))
    if biggest > limit:
        raise ValueError(
            "X must hold values within float32 range (|x| <= "
            f"{limit:.4g}) because the student computes in float32; got a "
            f"largest absolute value of {biggest:.4g}."
        )


def _check_hidden_layer_sizes(hidden_layer_sizes):
    sizes = np.asarray(hidden_layer_sizes, dtype=object).ravel().tolist()
    if not all(
        isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a sequence of positive integers (one "
            f"width per hidden layer, () for none); got {hidden_layer_sizes!r}."
        )
    return tuple(int(h) for h in sizes)


#: What ``<name>__<arg>`` parameters set.
_NESTED = {"teacher": "teacher", "augment": "augmenter"}


def _class_weight_factors(class_weight, classes, y_idx):
    """Each labelled row's class weight (``y_idx``: its class index).

    A dict must name classes of ``y`` only, with finite non-negative
    weights; the classes it leaves out weigh 1.
    """
    if isinstance(class_weight, dict):
        known = set(classes.tolist())
        unknown = [k for k in class_weight if k not in known]
        if unknown:
            raise ValueError(
                "class_weight must name classes of y; got "
                f"{sorted(unknown, key=str)!r}, which y does not hold (its "
                f"classes are {classes.tolist()!r})."
            )
        bad = {
            k: w for k, w in class_weight.items()
            if not (isinstance(w, Real) and np.isfinite(w) and w >= 0)
        }
        if bad:
            raise ValueError(
                "class_weight must map each class to a finite non-negative "
                f"number; got {bad!r}."
            )
    return compute_sample_weight(class_weight, classes[y_idx])


def _nested_hint(name, value, arg):
    """How to give ``<name>__<arg>`` a value to set: an estimator there."""
    if name == "augment" and isinstance(value, str) and value in AUGMENTERS:
        cls = AUGMENTERS[value].__name__
        return (
            f"Pass augment={cls}() (from sklearn_kd.augment) instead of "
            f"augment={value!r}, e.g. GridSearchCV(DistilledClassifier(..., "
            f"augment={cls}()), {{'augment__{arg}': [...]}}), or search over "
            f"instances: {{'augment': [{cls}({arg}=...), ...]}}."
        )
    if name == "teacher":
        return "Pass the teacher estimator, e.g. teacher=LogisticRegression()."
    return "Pass an augmenter instance, e.g. augment=MUNGE()."


#: Values of ``monitor`` (skorch's EarlyStopping, Checkpoint, ...) that
#: only a validation split records.
_VALIDATION_MONITORS = ("valid_loss", "valid_loss_best")


def _check_no_validation_callbacks(callbacks):
    """Refuse callbacks that read a validation split when there is none.

    skorch's scoring callbacks skip an epoch without validation data
    silently, and monitors of ``valid_loss`` fail after the teacher's fit.
    """
    for i, callback in enumerate(callbacks):
        if isinstance(callback, type):
            continue  # a class: skorch instantiates it with its defaults
        name = type(callback).__name__
        if isinstance(callback, (EpochScoring, BatchScoring, PassthroughScoring)):
            if callback.on_train:
                continue
            what = f"{name} scores the validation rows (on_train=False)"
            fix = f"score the training rows with {name}(..., on_train=True)"
        elif getattr(callback, "monitor", None) in _VALIDATION_MONITORS:
            what = f"{name} monitors {callback.monitor!r}"
            fix = f"monitor {callback.monitor.replace('valid', 'train')!r}"
        else:
            continue
        raise ValueError(
            f"callbacks[{i}]: {what}, but early_stopping=False holds out no "
            "validation rows, so it would record nothing. Set "
            "early_stopping=True, which holds out validation_fraction of the "
            "rows (with n_iter_no_change=None it does not stop early), or "
            f"{fix}."
        )


def _accepts_sample_weight(estimator):
    try:
        return has_fit_parameter(estimator, "sample_weight")
    except (TypeError, ValueError):
        return False


def _caller_stacklevel():
    """``stacklevel`` of a warning raised by this function's caller that
    names the first frame outside sklearn_kd, scikit-learn and joblib: the
    user's own call to ``fit`` (or to the pipeline or search around it)."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(
        _INTERNAL_PACKAGES
    ):
        frame = frame.f_back
        level += 1
    return level


def _rng_devices(device):
    """The CUDA devices whose random state a fit forks."""
    if device.type == "cuda":
        return [device.index if device.index is not None else 0]
    return []


def y_lab_idx(data):
    """Class indices of the labelled rows."""
    return data.y_idx[data.labelled]


__all__ = ["DistilledClassifier"]
