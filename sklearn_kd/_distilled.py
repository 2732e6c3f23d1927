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

import copy
import functools
import inspect
import numbers
import os
import sys
import warnings
from numbers import Integral, Real

import joblib
import numpy as np
import sklearn
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, _safe_indexing, check_random_state
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
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)
from skorch.callbacks import (
    BatchScoring,
    EarlyStopping,
    EpochScoring,
    PassthroughScoring,
)
from skorch.dataset import ValidSplit
from skorch.history import History
from torch import nn

from ._doc_links import DocLinkMixin
from ._ladder import SELECTIONS, HeldOutRows, run_ladder, subset
from ._net import (
    FEATURES,
    INFERENCE_BATCH_SIZE,
    SAMPLE_WEIGHT,
    DistillationNet,
    FiniteLossGuard,
    check_callbacks,
    optimizer_class,
)
from ._student import (
    ACTIVATIONS,
    ARCHITECTURE_OPTIONS,
    MLPStudent,
    TabularStudent,
    compute_bins,
    standardisation_statistics,
    teacher_thresholds,
)
from ._teacher_targets import (
    OverconfidentTeacherWarning,
    check_teacher_proba,
    is_frozen,
    resolve_teacher_cv,
    soften_teacher,
    target_inputs,
    teacher_probabilities,
)
from ._threads import SMALL_WORK, thread_scope
from ._transfer import (
    NO_LABEL,
    LabelledRowSplit,
    RegenerateTransferSet,
    draw,
    fit_augmenter,
    labelled_mask,
    teacher_label,
)
from ._validation import KNOWLEDGE_LEVELS, LOSSES
from .augment import AUGMENTERS
from .diagnostics import is_overconfident
from .losses import DistillationLoss

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}

#: Every fitted attribute of a DistilledClassifier. ``fit`` sets them all
#: in one place (:func:`set_fitted`; ``validate_data`` records the two
#: feature attributes, as in every scikit-learn estimator) and
#: :mod:`sklearn_kd.persistence` saves and restores this same list.
FITTED_ATTRIBUTES = (
    "classes_",
    "n_features_in_",
    "feature_names_in_",
    "teacher_",
    "student_",
    "history_",
    "n_iter_",
    "teacher_stats_",
    "knowledge_params_",
    "architecture_",
    "architecture_scores_",
)

#: Packages whose frames stand between a user's call and ``fit``: warnings
#: skip them to point at the user's own line.
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

    knowledge : {"full", "universe", "domain", "instance"}, default="full"
        Which part of the softened teacher the student sees (Tang et al.):
        ``"universe"`` keeps one constant true-class confidence and a uniform
        rest, ``"domain"`` adds class-level non-target shapes, ``"instance"``
        keeps each row's true-class confidence with a uniform rest, ``"full"``
        is the teacher itself. See :mod:`sklearn_kd.knowledge`.

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
        ``module(n_features, n_classes)``; an instance is deep-copied at fit
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
        Pipeline). Needs a ``teacher`` (not ``teacher_proba``),
        ``loss="kd"``, ``knowledge="full"`` and ``alpha > 0``. See :ref:`compression`.

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
            DataFrame stays one); the student its numeric float32 copy.
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
        teacher = teacher_probabilities(
            self._teacher_estimator(rng),
            _safe_indexing(data.X_teacher, lab) if some_unlabelled else data.X_teacher,
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
                **built,
            )
        # 4b. the transfer set: synthetic rows after the real ones
        y_idx, extra_callbacks = data.y_idx, []
        if self.augment is not None:
            make = self._transfer_set_maker(data, teacher.teacher, rng)
            n_new = int(round(self.augment_size * len(data.X)))
            if n_new:
                inputs, y_idx = _append_rows(
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
            )
        return self

    def _check_data(self, X, y, teacher_proba, sample_weight):
        """The validated training data, as a Bunch. ``validate_data``
        records ``n_features_in_`` (and ``feature_names_in_``), as in every
        scikit-learn estimator; no other attribute is set."""
        data = Bunch(X_teacher=X)  # the teacher sees X as given
        data.X, data.y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2
        )
        _check_float32_range(data.X)
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
            teacher_fit_params=self._teacher_fit_params(
                data.sample_weight, fit_params
            ),
        )

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
            thresholds = teacher_thresholds(fitted_teacher, data.X.shape[1])
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
        if fitted_teacher is not None and teacher_thresholds(
            fitted_teacher, data.X.shape[1]
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
            logits = _module_logits(net.module_, data.X[held_out], self.n_threads)
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

    def _transfer_set_maker(self, data, fitted_teacher, rng):
        """A function drawing ``n`` teacher-labelled synthetic rows as the
        student's inputs (features and targets by input name)."""
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

        def make(n_rows):
            X_new = draw(augmenter, n_rows, draw_rng, X.shape[1])
            proba = teacher_label(
                fitted_teacher, X_new, len(classes), classes, feature_names
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
    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        _check_float32_range(X)
        logits = _module_logits(
            self.student_.module_, X, getattr(self, "n_threads", None)
        )
        bad = ~np.isfinite(logits).all(axis=1)
        if bad.any():
            raise ValueError(
                "The student's logits must be finite to give probabilities; got "
                f"non-finite logits for {int(bad.sum())} of {len(X)} rows of X. "
                "X lies far outside the range seen in fit (it overflows float32 "
                "inside the network), or fit diverged (lower lr)."
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
        return softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits."""
        return log_softmax(self._logits(X), axis=1)

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
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = str(self.device).startswith("cuda")
        return tags


def _module_logits(module, X, n_threads):
    """The module's float64 logits on the rows of ``X``, in eval mode and
    without autograd, ``INFERENCE_BATCH_SIZE`` rows at a time, on the
    module's own device.

    The module is called directly rather than through skorch's ``forward``:
    scoring one array needs none of its dataset, loader and per-batch
    bookkeeping (about 4 % of a ``predict_proba`` call on 1,000 rows of the
    default tabular student).
    """
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    rows = torch.from_numpy(np.asarray(X, dtype=np.float32))
    work = _student_work(module, min(len(X), INFERENCE_BATCH_SIZE))
    module.train(False)
    chunks = []
    with thread_scope(n_threads, work), torch.inference_mode():
        for start in range(0, len(rows), INFERENCE_BATCH_SIZE):
            batch = rows[start : start + INFERENCE_BATCH_SIZE].to(device)
            chunks.append(module(batch).to("cpu", torch.float64))
    return torch.cat(chunks).numpy()


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
    biggest = max(float(X.max()), -float(X.min()))
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


def _silent(*args, **kwargs):
    """Sink that drops skorch's early-stopping messages when not verbose."""


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


def make_student_module(
    module,
    n_features,
    n_classes,
    *,
    hidden_layer_sizes,
    activation,
    X=None,
    architecture="mlp",
    bins=None,
):
    """The student's torch module, as the estimator's ``module`` asks.

    ``None`` builds the student that ``architecture`` names (see
    :class:`DistilledClassifier`): :class:`~sklearn_kd.MLPStudent` for
    ``"mlp"``, else a :class:`~sklearn_kd.TabularStudent`, whose
    piecewise-linear encodings (``"ple*"``) take the edges ``bins``. It
    standardises with the statistics of ``X`` (none without ``X``: they are
    then loaded with the weights, as :func:`sklearn_kd.persistence.load`
    does). A class is instantiated as ``module(n_features, n_classes)``; an
    instance is deep-copied.
    """
    if module is None:
        mean, scale = (None, None) if X is None else standardisation_statistics(X)
        if architecture == "mlp":
            return MLPStudent(
                n_features,
                n_classes,
                hidden_layer_sizes=hidden_layer_sizes,
                activation=activation,
                mean=mean,
                scale=scale,
            )
        encoding = None
        if architecture.startswith("ple"):
            encoding = "piecewise"
        elif architecture == "periodic":
            encoding = "periodic"
        return TabularStudent(
            n_features,
            n_classes,
            hidden_layer_sizes=hidden_layer_sizes,
            encoding=encoding,
            bins=bins,
            residual=architecture == "resnet",
            activation=activation,
            mean=mean,
            scale=scale,
        )
    if inspect.isclass(module):
        return module(n_features, n_classes)
    return copy.deepcopy(module)


def build_student_net(
    module,
    params,
    *,
    device="cpu",
    n_rows=None,
    seed=None,
    y_idx=None,
    extra_callbacks=(),
    n_classes=None,
):
    """The skorch net that trains ``module`` with a DistilledClassifier's
    parameters ``params`` (its ``get_params()``), unfitted.

    Parameters
    ----------
    module : torch.nn.Module
        The student.
    params : dict
        The estimator's parameters, already validated.
    device : str or torch.device, default="cpu"
    n_rows : int, default=None
        Training rows; the batch size is capped at it.
    seed : int, default=None
        Seeds the stratified validation split of ``early_stopping``.
    y_idx : ndarray of shape (n_rows,), default=None
        The training labels; when some rows have none (``NO_LABEL``), the
        validation split is drawn from the labelled rows only.
    extra_callbacks : sequence of (name, callback), default=()
        Callbacks of the fit itself (e.g. regenerating the transfer set).
    n_classes : int, default=None
        Number of classes: the net's ``classes_`` are their indices.
    """
    verbose = params["verbose"]
    optimizer = params["optimizer"]
    criterion = DistillationLoss(
        loss=params["loss"],
        temperature=params["temperature"],
        alpha=params["alpha"],
        tckd_weight=params["tckd_weight"],
        nckd_weight=params["nckd_weight"],
        scale_t2=params["scale_t2"],
        teacher_format="softened",
    )
    callbacks = [("finite_loss", FiniteLossGuard()), *extra_callbacks]
    train_split = None
    if params["early_stopping"]:
        if y_idx is not None and (np.asarray(y_idx) == NO_LABEL).any():
            train_split = LabelledRowSplit(
                params["validation_fraction"], y_idx, random_state=seed
            )
        else:
            train_split = ValidSplit(
                params["validation_fraction"], stratified=True, random_state=seed
            )
    if params["n_iter_no_change"] is not None:
        monitor = "valid_loss" if params["early_stopping"] else "train_loss"
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    patience=params["n_iter_no_change"],
                    threshold=params["tol"],
                    threshold_mode="rel",
                    load_best=params["early_stopping"],
                    sink=print if verbose else _silent,
                ),
            )
        )
    for i, callback in enumerate(copy.deepcopy(params["callbacks"] or [])):
        if not isinstance(callback, tuple):
            callback = (f"user_callback_{i}", callback)
        callbacks.append(callback)
    batch_size = params["batch_size"]
    net = DistillationNet(
        module=module,
        criterion=criterion,
        optimizer=OPTIMIZERS.get(optimizer, optimizer),
        lr=params["lr"],
        optimizer__weight_decay=params["weight_decay"],
        max_epochs=params["max_epochs"],
        batch_size=batch_size if n_rows is None else min(batch_size, n_rows),
        train_split=train_split,
        callbacks=callbacks,
        device=str(device),
        verbose=verbose,
        classes=None if n_classes is None else np.arange(n_classes),
    )
    if not verbose:
        net.set_params(callbacks__print_log=None)
    return net


def y_lab_idx(data):
    """Class indices of the labelled rows."""
    return data.y_idx[data.labelled]


def _append_rows(inputs, y_idx, new, sample_weight):
    """Training inputs with the synthetic rows ``new`` after the real ones;
    their hard label is ``NO_LABEL`` and their weight the mean weight."""
    n_new = len(new[FEATURES])
    out = {}
    for key, value in inputs.items():
        if key == SAMPLE_WEIGHT:
            extra = np.full(n_new, np.mean(sample_weight))
            out[key] = np.concatenate([value, extra])
        elif torch.is_tensor(value):
            out[key] = torch.cat([value, torch.as_tensor(new[key])])
        else:
            out[key] = np.concatenate([value, new[key]])
    y_new = np.full(n_new, NO_LABEL, dtype=np.int64)
    return out, np.concatenate([y_idx, y_new])


def set_fitted(estimator, **attributes):
    """Set the fitted attributes of a DistilledClassifier, all in one call.

    ``history_`` and ``n_iter_`` are read from ``student_``; every name must
    be in :data:`FITTED_ATTRIBUTES`.
    """
    if "history_" not in attributes:  # None until the net is initialised
        attributes["history_"] = attributes["student_"].history or History()
    attributes.setdefault("n_iter_", len(attributes["history_"]))
    unknown = set(attributes) - set(FITTED_ATTRIBUTES)
    if unknown:
        raise ValueError(f"Not fitted attributes: {sorted(unknown)!r}.")
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator


__all__ = ["DistilledClassifier"]
