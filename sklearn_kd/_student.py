"""The default student network: a multi-layer perceptron that standardises
its own inputs."""

from __future__ import annotations

import copy
import inspect
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "gelu": nn.GELU,
}

#: The standardisation is folded into the first layer's weights only when
#: every feature's mean is within this many of its scales from zero: the
#: folded bias ``b - (W / s) m`` then loses at most about one decimal digit
#: of float32 to cancellation. Features far from zero (years, prices in
#: raw units) are standardised explicitly instead.
FOLD_MAX_OFFSET = 16.0

#: Bytes of float64 working memory per block when computing the
#: standardisation statistics.
STATISTICS_BLOCK_BYTES = 4 * 2**20


def _register_missing(module, missing):
    """Set up a student's own handling of missing values (NaN).

    ``missing`` is None when the student refuses NaN (its teacher does);
    otherwise the indices of the features that get a missing indicator (those
    that had NaN in the training rows; possibly none). A student that
    handles missing values replaces NaN by the feature's training mean (the
    ``mean`` buffer) inside its forward pass, and appends one 0/1 indicator
    per listed feature to its encoded inputs. Returns the number of
    indicators.
    """
    module.handles_missing = missing is not None  # plain attribute: pickled
    index = [] if missing is None else [int(j) for j in missing]
    if missing is not None:
        module.register_buffer(
            "missing_index", torch.as_tensor(index, dtype=torch.long)
        )
    return len(index)


def _fill_missing(module, X):
    """``X`` with NaN replaced by the training means, and the missing
    indicators of the features in ``missing_index`` (None when there are
    none). The identity for a student that refuses NaN."""
    if not getattr(module, "handles_missing", False):
        return X, None
    if (
        not len(module.missing_index)
        and not torch.onnx.is_in_onnx_export()
        and not torch.jit.is_tracing()
        and not torch.isnan(X.sum())  # one reduction: no NaN in the batch
    ):
        return X, None  # nothing to fill; exported graphs always fill
    nan = torch.isnan(X)
    filled = torch.where(nan, module.mean.to(X.dtype), X)
    if not len(module.missing_index):
        return filled, None
    return filled, nan.index_select(1, module.missing_index).to(X.dtype)


def _register_standardisation(module, n_features, mean, scale):
    """The float32 ``mean`` and ``scale`` buffers a student standardises its
    inputs with; ``None`` means 0 and 1."""
    mean = np.zeros(n_features) if mean is None else np.asarray(mean)
    scale = np.ones(n_features) if scale is None else np.asarray(scale)
    module.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
    module.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))


class MLPStudent(nn.Module):
    """Multi-layer perceptron returning logits, with built-in standardisation.

    The feature means and scales are buffers, estimated from the training
    rows, so the student accepts the same raw features as a teacher pipeline
    and the whole network can be exported on its own.

    The standardisation is applied through the first layer: its weights are
    divided by the scales and its bias shifted by the means inside the
    forward pass, which costs a few operations on the small weight matrix
    instead of two passes over every batch. The parameters, their gradients
    and the predictions are those of ``layers((X - mean) / scale)`` up to
    float32 rounding. Features whose mean lies far from zero relative to
    their scale are standardised explicitly, to keep float32 precision.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; an empty tuple gives a linear model.
    activation : {"relu", "tanh", "logistic", "gelu"}, default="relu"
        Non-linearity after each hidden layer.
    mean, scale : array-like of shape (n_features,), default=None
        Standardisation statistics; ``None`` means 0 and 1.
    missing : array-like of int or None, default=None
        None: the student expects no missing values. Otherwise it accepts
        NaN: a missing value is replaced by the feature's ``mean`` and the
        features listed here (those with NaN in the training rows) each add
        a 0/1 missing indicator to the first layer's inputs.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd import MLPStudent
    >>> net = MLPStudent(4, 3, hidden_layer_sizes=(8,))
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(100,),
        activation="relu",
        mean=None,
        scale=None,
        missing=None,
    ):
        super().__init__()
        self.activation = activation
        _register_standardisation(self, n_features, mean, scale)
        n_indicators = _register_missing(self, missing)
        layers = []
        width = n_features + n_indicators
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def foldable(self):
        """Whether the standardisation can go into the first layer."""
        if len(getattr(self, "missing_index", ())):
            return False  # missing indicators extend the inputs
        offset = (self.mean.abs() / self.scale).max()
        return bool(offset <= FOLD_MAX_OFFSET) if self.mean.numel() else True

    def first_layer(self):
        """The first layer's weight and bias acting on raw features.

        ``(W / s, b - (W / s) m)``: ``x @ W'.T + b'`` equals
        ``((x - m) / s) @ W.T + b``.
        """
        first = self.layers[0]
        weight = first.weight / self.scale
        return weight, first.bias - weight @ self.mean

    def forward(self, X):
        X, indicators = _fill_missing(self, X)
        if indicators is not None:
            h = (X - self.mean) / self.scale
            return self.layers(torch.cat([h, indicators], dim=1))
        fold = self.__dict__.get("_fold")
        if fold is None:  # decided once per set of statistics
            fold = self._fold = self.foldable()
        if not fold:
            return self.layers((X - self.mean) / self.scale)
        weight, bias = self.first_layer()
        return self.layers[1:](F.linear(X, weight, bias))

    def _apply(self, fn, *args, **kwargs):
        # moving or loading the buffers may change the statistics: decide again
        self.__dict__.pop("_fold", None)
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, *args, **kwargs):
        self.__dict__.pop("_fold", None)
        return super()._load_from_state_dict(*args, **kwargs)


def standardisation_statistics(X):
    """Column means and scales of ``X``; constant columns get scale 1.

    One pass over ``X`` in blocks of rows (float64 accumulation, merged with
    Chan et al.'s pairwise update), so no copy of ``X`` is made: the working
    memory is one block, whatever the size and dtype of ``X``.

    Missing values (NaN) are left out of their column's statistics; a
    column without any observed value gets mean 0 and scale 1.
    """
    if np.isnan(np.min(X)) if X.size else False:
        return _observed_statistics(X)
    n, d = X.shape
    block = max(1, STATISTICS_BLOCK_BYTES // (8 * max(d, 1)))
    mean = np.zeros(d)
    m2 = np.zeros(d)
    count = 0
    for start in range(0, n, block):
        chunk = np.array(X[start : start + block], dtype=np.float64)
        k = len(chunk)
        chunk_mean = chunk.mean(axis=0)
        chunk -= chunk_mean
        chunk_m2 = np.einsum("ij,ij->j", chunk, chunk)
        delta = chunk_mean - mean
        total = count + k
        mean += delta * (k / total)
        m2 += chunk_m2 + delta**2 * (count * k / total)
        count = total
    scale = np.sqrt(m2 / max(n, 1))
    scale[~(scale > np.finfo(np.float32).eps * np.maximum(1.0, np.abs(mean)))] = 1.0
    return mean, scale


def _observed_statistics(X):
    """Column means and scales of the observed (non-NaN) values of ``X``,
    one column at a time."""
    d = X.shape[1]
    mean, scale = np.zeros(d), np.ones(d)
    for j in range(d):
        column = np.asarray(X[:, j], dtype=np.float64)
        column = column[~np.isnan(column)]
        if len(column):
            mean[j] = column.mean()
            scale[j] = column.std()
    tiny = np.finfo(np.float32).eps * np.maximum(1.0, np.abs(mean))
    scale[~(scale > tiny)] = 1.0
    return mean, scale


def missing_features(X):
    """Indices of the columns of ``X`` holding at least one NaN.

    The column sums find the candidates without a mask the size of ``X``
    (a sum is NaN when its column holds one); each candidate is then
    checked on its own column.
    """
    if not X.size:
        return np.zeros(0, dtype=np.int64)
    candidates = np.flatnonzero(np.isnan(X.sum(axis=0)))
    return np.asarray(
        [j for j in candidates if np.isnan(X[:, j]).any()], dtype=np.int64
    )


# ---------------------------------------------------------------------------
# Stronger tabular students: numeric-feature encodings and residual blocks.
# ---------------------------------------------------------------------------

#: The students ``DistilledClassifier(architecture=...)`` builds.
ARCHITECTURES = ("mlp", "resnet", "ple", "ple-tree", "ple-teacher", "periodic")
#: The names it accepts: ``"auto"`` is ``"ple-teacher"`` when the teacher is
#: a tree ensemble whose split thresholds can be read, else ``"mlp"``.
ARCHITECTURE_OPTIONS = ("auto", *ARCHITECTURES)


class ResidualBlock(nn.Module):
    """``x + Linear(act(Linear(LayerNorm(x))))``: a pre-norm residual block."""

    def __init__(self, width, hidden, activation="relu", dropout=0.0):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.inner = nn.Linear(width, hidden)
        self.act = ACTIVATIONS[activation]()
        self.drop = nn.Dropout(dropout)
        self.outer = nn.Linear(hidden, width)

    def forward(self, x):
        return x + self.outer(self.drop(self.act(self.inner(self.norm(x)))))


class TabularStudent(nn.Module):
    """A student for numeric tables: optional feature encoding, then an MLP.

    ``encoding`` selects how each numeric feature enters the network
    (Gorishniy, Rubachev & Babenko, NeurIPS 2022, "On Embeddings for
    Numerical Features in Tabular Deep Learning"; the encodings come from
    the ``rtdl_num_embeddings`` package):

    - ``None``: the standardised feature itself;
    - ``"piecewise"``: a piecewise-linear encoding of the raw feature on the
      given bin edges (one number per bin), flattened;
    - ``"periodic"``: learned periodic features of the standardised feature
      (``sin``/``cos`` of trained frequencies, then a linear layer and ReLU).

    The body is a plain MLP (``residual=False``) or a linear layer to
    ``hidden_layer_sizes[0]`` followed by one pre-norm residual block per
    entry of ``hidden_layer_sizes`` (block ``i`` has inner width
    ``hidden_layer_sizes[i]``).

    Parameters
    ----------
    n_features, n_classes : int
        Input features and output logits.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Widths of the body.
    encoding : {None, "piecewise", "periodic"}, default=None
        The numeric-feature encoding.
    bins : list of array-like, default=None
        Bin edges per feature for ``encoding="piecewise"`` (strictly
        increasing, at least 2 edges each); see :func:`compute_bins`.
    d_embedding : int, default=8
        Size of each feature's periodic embedding.
    residual : bool, default=False
        Use residual blocks.
    activation : {"relu", "tanh", "logistic", "gelu"}, default="relu"
    mean, scale : array-like of shape (n_features,), default=None
        Standardisation statistics; ``None`` means 0 and 1.
    missing : array-like of int or None, default=None
        None: the student expects no missing values. Otherwise it accepts
        NaN: a missing value is replaced by the feature's ``mean`` before
        the encoding, and the features listed here (those with NaN in the
        training rows) each add a 0/1 missing indicator after it: missing
        is a bin of its own, as a tree ensemble's missing-value branch.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_kd._student import TabularStudent, compute_bins
    >>> X = np.random.RandomState(0).normal(size=(100, 3))
    >>> net = TabularStudent(3, 2, hidden_layer_sizes=(8,), encoding="piecewise",
    ...                      bins=compute_bins(X, n_bins=4))
    >>> net(torch.zeros(5, 3)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(256, 256),
        encoding=None,
        bins=None,
        d_embedding=8,
        residual=False,
        activation="relu",
        mean=None,
        scale=None,
        missing=None,
    ):
        super().__init__()
        _register_standardisation(self, n_features, mean, scale)
        n_indicators = _register_missing(self, missing)
        # the constructor's arguments, enough to rebuild the network before
        # its state_dict is loaded (sklearn_kd.persistence)
        self.encoding = encoding
        self.bins = (
            None
            if bins is None or encoding != "piecewise"
            else [np.asarray(b, dtype=np.float32) for b in bins]
        )
        self.hidden_layer_sizes = tuple(int(h) for h in hidden_layer_sizes)
        self.d_embedding = d_embedding
        self.residual = residual
        self.activation = activation
        if encoding is None:
            self.encoder = None
            width = n_features
        elif encoding == "piecewise":
            if bins is None:
                raise ValueError(
                    "encoding='piecewise' needs bin edges per feature; got bins=None."
                )
            self.encoder = None
            for name, value in piecewise_linear_encoding(bins).items():
                self.register_buffer(name, value)
            width = len(self.encoding_index)
        elif encoding == "periodic":
            from rtdl_num_embeddings import PeriodicEmbeddings

            self.encoder = PeriodicEmbeddings(n_features, d_embedding, lite=False)
            width = n_features * d_embedding
        else:
            raise ValueError(
                "encoding must be None, 'piecewise' or 'periodic'; got "
                f"{encoding!r}."
            )
        width += n_indicators
        layers = []
        sizes = tuple(hidden_layer_sizes)
        if residual and sizes:
            layers.append(nn.Linear(width, sizes[0]))
            layers += [ResidualBlock(sizes[0], h, activation) for h in sizes]
            layers += [nn.LayerNorm(sizes[0]), ACTIVATIONS[activation]()]
            width = sizes[0]
        else:
            for size in sizes:
                layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
                width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        X, indicators = _fill_missing(self, X)
        if self.encoding == "piecewise":
            # one gather, one multiply-add and one clamp: the encoding of every
            # bin of every feature at once, in the flat layout of
            # rtdl_num_embeddings.PiecewiseLinearEncoding
            if torch.onnx.is_in_onnx_export():
                # onnxruntime gathers rows much faster than columns (the
                # same numbers: the transposes only move them)
                columns = X.t().index_select(0, self.encoding_index).t()
            else:
                columns = X.index_select(1, self.encoding_index)
            h = torch.addcmul(self.encoding_bias, columns, self.encoding_weight)
            h = torch.clamp(h, self.encoding_min, self.encoding_max)
        else:
            h = (X - self.mean) / self.scale
            if self.encoder is not None:
                h = self.encoder(h).flatten(1)
        if indicators is not None:
            h = torch.cat([h, indicators], dim=1)
        return self.layers(h)


def piecewise_linear_encoding(bins):
    """The piecewise-linear encoding on ``bins`` as flat per-bin tensors.

    ``rtdl_num_embeddings.PiecewiseLinearEncoding`` computes, for every
    feature ``j`` and bin ``k``, ``w[j, k] * x_j + b[j, k]`` clipped to
    ``[0, 1]``, except that the first bin is not clipped below and the last
    bin not above (a feature with one bin is not clipped at all). Its
    weights, biases and layout are taken from that module; here they are
    flattened to the real bins only, so that the encoding of a batch is one
    gather of the feature columns, one multiply-add and one clamp with
    per-bin bounds, instead of a padded three-dimensional tensor cut into
    slices, clamped piece by piece, concatenated and masked.

    Parameters
    ----------
    bins : list of array-like
        Strictly increasing edges per feature, at least 2 each.

    Returns
    -------
    tensors : dict of str to Tensor
        ``encoding_index`` (the feature of each encoded bin), and
        ``encoding_weight``, ``encoding_bias``, ``encoding_min``,
        ``encoding_max`` (float32, one entry per encoded bin).
    """
    from rtdl_num_embeddings import PiecewiseLinearEncoding

    edges = [torch.as_tensor(np.asarray(b), dtype=torch.float32) for b in bins]
    with warnings.catch_warnings():
        # a feature with a single bin is encoded as its min-max scaling
        warnings.filterwarnings("ignore", message=".*just two bin edges")
        impl = PiecewiseLinearEncoding(edges).impl
    n_features, max_bins = impl.weight.shape
    lower = torch.zeros(n_features, max_bins)
    upper = torch.ones(n_features, max_bins)
    lower[:, 0] = -torch.inf  # the first bin extends below
    upper[:, -1] = torch.inf  # the last bin extends above
    if impl.single_bin_mask is not None:  # one bin: min-max scaling, unclipped
        lower[impl.single_bin_mask, -1] = -torch.inf
    keep = (
        torch.ones(n_features, max_bins, dtype=torch.bool)
        if impl.mask is None
        else impl.mask
    ).flatten()
    feature = torch.arange(n_features)[:, None].expand(n_features, max_bins)
    return {
        "encoding_index": feature.flatten()[keep].contiguous(),
        "encoding_weight": impl.weight.flatten()[keep].contiguous(),
        "encoding_bias": impl.bias.flatten()[keep].contiguous(),
        "encoding_min": lower.flatten()[keep].contiguous(),
        "encoding_max": upper.flatten()[keep].contiguous(),
    }


def compute_bins(X, n_bins=16, *, y=None, thresholds=None, task="classification"):
    """Bin edges per feature for the piecewise-linear encoding.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    n_bins : int, default=16
        Largest number of bins per feature.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs), default=None
        Class indices, or regression targets (the first output is used):
        the edges are then the split thresholds of a decision tree per
        feature grown on ``y`` (``rtdl_num_embeddings.compute_bins``'s tree
        bins).
    thresholds : list of ndarray, default=None
        Candidate split points per feature, for example a tree ensemble's
        split thresholds (see :func:`teacher_thresholds`). The edges are
        ``n_bins - 1`` quantiles of each feature's thresholds plus the
        feature's range; a feature without thresholds gets quantile bins.

    task : {"classification", "regression"}, default="classification"
        What ``y`` holds.

    Without ``y`` and ``thresholds`` the edges are quantiles of ``X``.
    Missing values (NaN) are left out: a column's edges cover its observed
    values (a column never observed gets one dummy bin), and infinite
    thresholds (a split of the missing values alone) are ignored.

    Returns
    -------
    bins : list of ndarray
        Strictly increasing edges per feature, at least 2 each.
    """
    import rtdl_num_embeddings

    X = np.asarray(X, dtype=np.float64)
    out = [None] * X.shape[1]
    if thresholds is not None:
        for j in range(X.shape[1]):
            # (a split of the missing values alone has an infinite threshold)
            points = np.asarray(thresholds[j], dtype=np.float64)
            points = points[np.isfinite(points)]
            if len(points):
                out[j] = np.quantile(points, np.linspace(0, 1, n_bins + 1)[1:-1])
    # the library's quantile or tree bins for the other varying columns; a
    # column with missing values is binned on its observed values alone
    missing = np.isnan(X).any(axis=0)
    varying = [
        j
        for j in range(X.shape[1])
        if out[j] is None and _observed(X[:, j]).size and np.ptp(_observed(X[:, j])) > 0
    ]
    complete = [j for j in varying if not missing[j]]
    groups = [(complete, np.ones(len(X), dtype=bool))] if complete else []
    groups += [([j], ~np.isnan(X[:, j])) for j in varying if missing[j]]
    for columns, rows in groups:
        n_observed = int(rows.sum())
        if n_observed <= 2:  # too few values for the library's bins
            continue  # their range is the one bin
        kwargs = {}
        if y is not None and thresholds is None:
            leaf = max(1, min(64, int(rows.sum()) // (4 * n_bins)))
            regression = task == "regression"
            target = np.asarray(y)[rows]
            if regression:
                target = target.reshape(len(target), -1)[:, 0]
            kwargs = dict(
                tree_kwargs=dict(min_samples_leaf=leaf),
                y=torch.as_tensor(
                    target, dtype=torch.float32 if regression else torch.long
                ),
                regression=regression,
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*just two bin edges")
            found = rtdl_num_embeddings.compute_bins(
                torch.as_tensor(X[rows][:, columns], dtype=torch.float32),
                n_bins=min(n_bins, n_observed - 1),
                **kwargs,
            )
        for j, edges in zip(columns, found):
            out[j] = edges.numpy()
    return [
        _valid_edges(np.array([]) if e is None else e, X[:, j])
        for j, e in enumerate(out)
    ]


def _observed(column):
    """The non-missing values of ``column``."""
    return column[~np.isnan(column)]


def _valid_edges(edges, column):
    """Sorted unique float32-distinct edges covering the observed values of
    ``column``; >= 2."""
    column = _observed(column)
    if not column.size:  # never observed: one dummy bin
        return np.array([0.0, 1.0], dtype=np.float32)
    lo, hi = float(np.min(column)), float(np.max(column))
    edges = np.asarray(edges, dtype=np.float64)
    edges = np.clip(edges[np.isfinite(edges)], lo, hi)
    edges = np.unique(np.concatenate([[lo], edges, [hi]]).astype(np.float32))
    if len(edges) < 2:  # a constant feature: one dummy bin
        edges = np.array([lo, lo + 1.0], dtype=np.float32)
    return edges


def teacher_thresholds(teacher, n_features):
    """Split thresholds per feature of a fitted tree-ensemble teacher.

    Reads scikit-learn's decision trees and forests (``estimators_`` holding
    trees), gradient boosting, and histogram gradient boosting. Returns None
    for any other teacher (a pipeline, for example, whose trees split
    transformed features).

    Parameters
    ----------
    teacher : estimator
        A fitted classifier, possibly wrapped in a ``FrozenEstimator``.
    n_features : int
        Number of features the teacher was fitted on.

    Returns
    -------
    thresholds : list of ndarray or None
        The thresholds of every split on feature ``j`` at index ``j``.
    """
    from sklearn.frozen import FrozenEstimator

    if isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    found = [[] for _ in range(n_features)]
    trees = []
    if hasattr(teacher, "tree_"):
        trees = [teacher]
    elif hasattr(teacher, "_predictors"):  # HistGradientBoostingClassifier
        # with categorical features, its trees number the categorical
        # columns first, then the others (each in their order)
        order = np.arange(n_features)
        is_categorical = getattr(teacher, "is_categorical_", None)
        if is_categorical is not None and getattr(teacher, "_preprocessor", None):
            is_categorical = np.asarray(is_categorical, dtype=bool)
            order = np.concatenate(
                [np.flatnonzero(is_categorical), np.flatnonzero(~is_categorical)]
            )
        for stage in teacher._predictors:
            for predictor in stage:
                nodes = predictor.nodes
                split = ~nodes["is_leaf"].astype(bool)
                if "is_categorical" in nodes.dtype.names:
                    split &= ~nodes["is_categorical"].astype(bool)
                for j, t in zip(
                    nodes["feature_idx"][split], nodes["num_threshold"][split]
                ):
                    found[order[j]].append(t)
    elif hasattr(teacher, "estimators_"):
        trees = np.ravel(np.asarray(teacher.estimators_, dtype=object)).tolist()
        if not all(hasattr(t, "tree_") for t in trees):
            return None
    else:
        return None
    for tree in trees:
        t = tree.tree_
        split = t.feature >= 0
        for j, thr in zip(t.feature[split], t.threshold[split]):
            found[j].append(thr)
    if not any(found):
        return None
    return [np.asarray(f, dtype=np.float64) for f in found]


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
    missing=None,
):
    """The student's torch module, as the estimator's ``module`` asks.

    ``None`` builds the student that ``architecture`` names (see
    :class:`DistilledClassifier`): :class:`~sklearn_kd.MLPStudent` for
    ``"mlp"``, else a :class:`~sklearn_kd.TabularStudent`, whose
    piecewise-linear encodings (``"ple*"``) take the edges ``bins``. It
    standardises with the statistics of ``X`` (none without ``X``: they are
    then loaded with the weights, as :func:`sklearn_kd.persistence.load`
    does). ``missing`` is None for a student that refuses NaN, else the
    features that get a missing indicator (see :class:`~sklearn_kd.MLPStudent`).
    A class is instantiated as ``module(n_features, n_classes)``; an
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
                missing=missing,
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
            missing=missing,
        )
    if inspect.isclass(module):
        return module(n_features, n_classes)
    return copy.deepcopy(module)
