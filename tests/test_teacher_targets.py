"""Tests of sklearn_kd._teacher_targets: the teacher's probabilities, their
statistics, and the targets the student trains on."""

import numpy as np
import pytest
import torch
from joblib import Memory
from scipy.special import xlogy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from sklearn_kd._batch import target_inputs
from sklearn_kd._teacher_step import (
    align_columns,
    fit_teacher_proba,
    teacher_probabilities,
)
from sklearn_kd._teacher_targets import soften_targets, soften_teacher
from sklearn_kd.diagnostics import teacher_diagnostics
from sklearn_kd.knowledge import apply_knowledge, fit_knowledge
from sklearn_kd.losses import DistillationLoss, soften


@pytest.fixture
def teacher():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.full(7, 0.3), size=53)
    proba[3, 2] = 0.0
    proba[3] /= proba[3].sum()
    return proba, rng.integers(0, 7, size=53)


@pytest.mark.parametrize("chunk_entries", [1, 20, 7 * 53, 10**6])
def test_blocks_equal_whole_matrix(teacher, chunk_entries):
    proba, y = teacher
    targets, summary = soften_targets(proba, y, 2.0, 0.4, chunk_entries=chunk_entries)
    expected = soften(proba, 2.0).numpy()
    assert targets.q_T.dtype == np.float32
    assert targets.top_index is None and targets.rest is None
    np.testing.assert_allclose(targets.q_T, expected, rtol=1e-6, atol=1e-30)
    assert targets.q_T[3, 2] == 0.0  # a zero stays exactly zero
    np.testing.assert_allclose(
        targets.neg_entropy, xlogy(expected, expected).sum(axis=1), rtol=1e-6
    )
    whole = teacher_diagnostics(expected, y, alpha=0.4).summary
    assert summary.keys() == whole.keys()
    assert summary.weight_at == whole.weight_at == "uniform"
    for key in summary.keys() - {"weight_at"}:
        np.testing.assert_allclose(summary[key], whole[key], rtol=1e-12)


def test_top_k_keeps_the_largest_and_spreads_the_rest(teacher):
    proba, y = teacher
    k = 3
    targets, _ = soften_targets(proba, y, 0.5, 0.4, top_k=k, chunk_entries=20)
    q_T = soften(proba, 0.5).numpy()
    expected_index = np.argsort(-q_T, axis=1)[:, :k]
    np.testing.assert_array_equal(
        np.sort(targets.top_index, axis=1), np.sort(expected_index, axis=1)
    )
    np.testing.assert_allclose(
        targets.q_T, np.take_along_axis(q_T, targets.top_index, axis=1), rtol=1e-6
    )
    rest = (1 - np.sort(q_T, axis=1)[:, -k:].sum(axis=1)) / (7 - k)
    np.testing.assert_allclose(targets.rest, rest, rtol=1e-5, atol=1e-12)
    total = targets.q_T.sum(axis=1, dtype=np.float64) + (7 - k) * targets.rest
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    dense = np.repeat(targets.rest[:, None].astype(np.float64), 7, axis=1)
    np.put_along_axis(dense, targets.top_index, targets.q_T, axis=1)
    np.testing.assert_allclose(
        targets.neg_entropy, xlogy(dense, dense).sum(axis=1), rtol=1e-5
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_precomputed_entropy_gives_the_same_loss_and_gradient(teacher, weighted):
    proba, y = teacher
    targets, _ = soften_targets(proba, y, 3.0, 0.7)
    q_T = torch.as_tensor(targets.q_T, dtype=torch.float64)
    y_t = torch.as_tensor(y)
    w = torch.linspace(0.5, 2.0, len(y), dtype=torch.float64) if weighted else None
    criterion = DistillationLoss(temperature=3.0, alpha=0.7, teacher_format="softened")
    z = torch.randn(
        len(y), 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    z1, z2 = z.clone().requires_grad_(True), z.clone().requires_grad_(True)
    neg_entropy = torch.as_tensor(targets.neg_entropy, dtype=torch.float64)
    fast = criterion(z1, q_T, y_t, sample_weight=w, teacher_neg_entropy=neg_entropy)
    reference = criterion(z2, q_T, y_t, sample_weight=w)
    fast.backward()
    reference.backward()
    # float32 entropies: the loss agrees to float32 precision, gradients exactly
    np.testing.assert_allclose(fast.item(), reference.item(), rtol=1e-6)
    np.testing.assert_allclose(z1.grad.numpy(), z2.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_float32_teacher_is_softened_in_float32(teacher):
    proba, y = teacher
    targets, summary = soften_targets(proba.astype(np.float32), y, 0.25, 0.4)
    expected = soften(proba, 0.25).numpy()
    np.testing.assert_allclose(targets.q_T, expected, rtol=1e-4, atol=1e-7)
    assert targets.q_T[3, 2] == 0.0
    whole = teacher_diagnostics(expected, y, alpha=0.4).summary
    assert summary.mean_confidence == pytest.approx(whole.mean_confidence, rel=1e-5)


def test_diagnostics_alone_match_those_built_with_the_targets(teacher):
    proba, y = teacher
    # several blocks (20 entries, 2 rows each): every block counts
    none, alone = soften_targets(
        proba, y, 2.0, 0.4, build_targets=False, chunk_entries=20
    )
    _, with_targets = soften_targets(proba, y, 2.0, 0.4)
    assert none is None
    for key in alone.keys() - {"weight_at"}:
        np.testing.assert_array_equal(alone[key], with_targets[key])


# ------------------------------------------------------------ the teacher
class CountingTeacher(LogisticRegression):
    """Counts its fits in a module-level list (clones share it)."""

    def fit(self, X, y, sample_weight=None):
        FITS.append(None if sample_weight is None else np.asarray(sample_weight))
        return super().fit(X, y, sample_weight=sample_weight)


FITS = []


class NoClasses(BaseEstimator):
    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


@pytest.fixture(scope="module")
def labelled(binary_data):
    X, y = binary_data
    labels = np.array(["no", "yes"])[y]
    return X, labels, np.unique(labels)


def test_align_columns_orders_the_teachers_columns_by_label():
    proba = np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    aligned = align_columns(proba, ["c", "a", "b"], np.array(["a", "b", "c"]))
    np.testing.assert_array_equal(aligned, proba[:, [1, 2, 0]])
    np.testing.assert_array_equal(align_columns(proba, [2, 0, 1], [0, 1, 2]), aligned)
    with pytest.raises(ValueError, match=r"predicts \['a', 'b'\], y holds"):
        align_columns(proba[:, :2], ["a", "b"], np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match="teacher's classes_ must be the classes"):
        align_columns(proba, ["a", "b", "d"], np.array(["a", "b", "c"]))


def test_fit_teacher_proba_fits_a_clone_and_aligns_its_columns(labelled):
    X, y, classes = labelled
    teacher = LogisticRegression()
    fitted, proba = fit_teacher_proba(teacher, X, y, classes[::-1])
    assert fitted is not teacher and not hasattr(teacher, "classes_")
    np.testing.assert_array_equal(proba, fitted.predict_proba(X)[:, ::-1])


def test_fit_teacher_proba_passes_fit_params(binary_data):
    X, y = binary_data
    w = np.linspace(0.1, 2.0, len(y))
    FITS.clear()
    fitted, proba = fit_teacher_proba(
        CountingTeacher(), X, y, np.array([0, 1]), fit_params={"sample_weight": w}
    )
    np.testing.assert_array_equal(FITS[-1], w)
    expected = LogisticRegression().fit(X, y, sample_weight=w).predict_proba(X)
    np.testing.assert_allclose(proba, expected)


def test_a_frozen_teacher_is_used_as_it_is(binary_data):
    X, y = binary_data
    inner = LogisticRegression(C=0.01).fit(X[:30], y[:30])
    frozen = FrozenEstimator(inner)
    fitted, proba = fit_teacher_proba(frozen, X, y, np.array([0, 1]))
    assert fitted is frozen
    np.testing.assert_array_equal(proba, inner.predict_proba(X))
    with pytest.raises(NotFittedError):
        fit_teacher_proba(FrozenEstimator(LogisticRegression()), X, y, [0, 1])


def test_a_teacher_without_classes_is_an_error(binary_data):
    X, y = binary_data
    with pytest.raises(TypeError, match="NoClasses has none"):
        fit_teacher_proba(NoClasses(), X, y, np.array([0, 1]))


def test_teacher_cv_gives_out_of_fold_probabilities(labelled):
    X, y, classes = labelled
    fitted, proba = fit_teacher_proba(LogisticRegression(), X, y, classes, cv=3)
    expected = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(3), method="predict_proba"
    )
    np.testing.assert_allclose(proba, expected)
    np.testing.assert_allclose(
        fitted.predict_proba(X), LogisticRegression().fit(X, y).predict_proba(X)
    )


def test_teacher_probabilities_given_fitted_or_cached(binary_data, tmp_path):
    X, y = binary_data
    classes = np.array([0, 1])
    assert teacher_probabilities(None, X, y, classes) is None
    proba = LogisticRegression().fit(X, y).predict_proba(X)
    given = teacher_probabilities(None, X, y, classes, proba=proba)
    assert given.teacher is None and given.proba is proba
    FITS.clear()
    memory = Memory(tmp_path, verbose=0)
    for _ in range(2):
        fitted = teacher_probabilities(CountingTeacher(), X, y, classes, memory=memory)
        np.testing.assert_allclose(fitted.proba, proba)
    assert len(FITS) == 1  # the second call reads the cache


def test_teacher_probabilities_fit_a_clone(teacher):
    proba, y = teacher
    before = proba.copy()
    assert teacher_probabilities(None, None, y, np.arange(7)) is None
    given = teacher_probabilities(None, None, y, np.arange(7), proba=proba)
    assert given.teacher is None and given.proba is proba
    np.testing.assert_array_equal(proba, before)

    X = np.random.default_rng(1).normal(size=(len(y), 3))
    estimator = LogisticRegression()
    fitted = teacher_probabilities(estimator, X, y, np.arange(7))
    assert fitted.teacher is not estimator and not hasattr(estimator, "coef_")
    np.testing.assert_array_equal(fitted.proba, fitted.teacher.predict_proba(X))


@pytest.mark.parametrize("level", ["full", "universe", "domain", "instance"])
def test_soften_teacher_statistics_describe_the_softened_teacher(teacher, level):
    proba, y = teacher
    before = proba.copy()
    soft = soften_teacher(proba, y, temperature=3.0, alpha=0.2, knowledge=level)
    np.testing.assert_array_equal(proba, before)
    expected = teacher_diagnostics(soften(proba, 3.0).numpy(), y, alpha=0.2).summary
    for key in expected.keys() - {"weight_at"}:
        np.testing.assert_allclose(soft.stats[key], expected[key], rtol=1e-12)
    # the statistics alone, without targets
    alone = soften_teacher(
        proba, y, temperature=3.0, alpha=0.2, knowledge=level, build_targets=False
    )
    assert alone.targets is None and alone.knowledge_params is None
    for key in expected.keys() - {"weight_at"}:
        np.testing.assert_allclose(alone.stats[key], expected[key], rtol=1e-12)


@pytest.mark.parametrize("level", ["full", "universe", "domain", "instance"])
def test_soften_teacher_statistics_of_the_labelled_rows(teacher, level):
    proba, y = teacher
    labelled = np.arange(len(y)) % 3 != 0
    soft = soften_teacher(
        proba, y, temperature=2.0, alpha=0.4, knowledge=level, labelled=labelled
    )
    expected = teacher_diagnostics(
        soften(proba[labelled], 2.0).numpy(), y[labelled], alpha=0.4
    ).summary
    assert soft.stats.n_samples == labelled.sum()
    for key in expected.keys() - {"weight_at"}:
        np.testing.assert_allclose(soft.stats[key], expected[key], rtol=1e-12)
    # the targets still cover every row
    assert soft.targets.q_T.shape == proba.shape


def test_target_inputs_name_dense_or_top_k_targets(teacher):
    proba, y = teacher
    dense = soften_teacher(proba, y, temperature=2.0).targets
    assert set(target_inputs(dense)) == {"teacher", "teacher_neg_entropy"}
    top = soften_teacher(proba, y, temperature=2.0, top_k=2).targets
    inputs = target_inputs(top)
    assert set(inputs) == {
        "teacher_topk", "teacher_topk_index", "teacher_rest", "teacher_neg_entropy"
    }
    np.testing.assert_array_equal(inputs["teacher_topk_index"], top.top_index)


def test_target_inputs_hold_the_targets_arrays(teacher):
    proba, y = teacher
    dense = soften_teacher(proba, y, temperature=2.0).targets
    inputs = target_inputs(dense)
    assert inputs["teacher"] is dense.q_T
    assert inputs["teacher_neg_entropy"] is dense.neg_entropy
    top = soften_teacher(proba, y, temperature=2.0, top_k=2).targets
    inputs = target_inputs(top)
    assert inputs["teacher_topk"] is top.q_T and inputs["teacher_rest"] is top.rest


def test_soften_teacher_statistics_default_to_alpha_zero(teacher):
    # alpha = 0: no teacher term, every instance weight is 1
    proba, y = teacher
    stats = soften_teacher(proba, y, temperature=2.0).stats
    assert stats.alpha == 0.0 and stats.mean_weight == 1.0
    np.testing.assert_array_equal(stats.weight_quantiles, 1.0)


@pytest.mark.parametrize("level", ["full", "universe", "domain", "instance"])
def test_soften_teacher_targets_keep_the_level_of_knowledge(teacher, level):
    proba, y = teacher
    soft = soften_teacher(proba, y, knowledge=level, temperature=2.0)
    targets, params = soft.targets, soft.knowledge_params
    q_T = soften(proba, 2.0).numpy()
    if level == "full":
        assert params is None
        expected = q_T
    else:
        expected_params = fit_knowledge(q_T, y, 7)
        np.testing.assert_allclose(params.confidence, expected_params.confidence)
        np.testing.assert_allclose(params.class_shapes, expected_params.class_shapes)
        expected = apply_knowledge(q_T, y, level, expected_params)
    assert targets.q_T.dtype == np.float32
    np.testing.assert_allclose(targets.q_T, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        targets.neg_entropy, xlogy(expected, expected).sum(axis=1), rtol=1e-5
    )


# ------------------------------------------------- precision and top k
def test_float32_teacher_is_softened_in_float32_exactly(teacher):
    proba, y = teacher
    proba32 = proba.astype(np.float32)
    targets, _ = soften_targets(proba32, y, 0.25, 0.4, chunk_entries=20)
    np.testing.assert_array_equal(
        targets.q_T, soften(torch.from_numpy(proba32), 0.25).numpy()
    )


def test_other_float_dtypes_are_softened_in_float64():
    # Rows exact in float16; softening them in float16 would be off by 1e-4.
    proba = np.array(
        [
            [0.5, 0.25, 0.125, 0.125],
            [0.75, 0.0, 0.25, 0.0],
            [0.0625, 0.4375, 0.25, 0.25],
        ],
        dtype=np.float16,
    )
    targets, _ = soften_targets(proba, np.array([0, 1, 2]), 3.0, 0.4)
    expected = soften(proba.astype(np.float64), 3.0).numpy()
    np.testing.assert_allclose(targets.q_T, expected, rtol=1e-6)


def test_targets_are_float32_whatever_torchs_default_dtype(teacher):
    proba, y = teacher
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        dense, _ = soften_targets(proba, y, 2.0, 0.4)
        compressed, _ = soften_targets(proba, y, 2.0, 0.4, top_k=2)
    finally:
        torch.set_default_dtype(default)
    assert dense.q_T.dtype == dense.neg_entropy.dtype == np.float32
    assert compressed.q_T.dtype == compressed.neg_entropy.dtype == np.float32
    assert compressed.rest.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int32, np.int16, np.uint8])
def test_labels_of_any_integer_dtype(teacher, dtype):
    proba, y = teacher
    expected, expected_summary = soften_targets(proba, y, 2.0, 0.4)
    targets, summary = soften_targets(proba, y.astype(dtype), 2.0, 0.4)
    np.testing.assert_array_equal(targets.q_T, expected.q_T)
    assert summary.mean_confidence == expected_summary.mean_confidence


def test_top_k_of_every_class_keeps_the_dense_targets(teacher):
    proba, y = teacher
    dense, _ = soften_targets(proba, y, 2.0, 0.4)
    for top_k in (7, 9):
        targets, _ = soften_targets(proba, y, 2.0, 0.4, top_k=top_k)
        assert targets.top_index is None and targets.rest is None
        np.testing.assert_array_equal(targets.q_T, dense.q_T)


@pytest.mark.parametrize("level", ["full", "domain"])
def test_soften_teacher_passes_top_k_on(teacher, level):
    proba, y = teacher
    dense = soften_teacher(proba, y, knowledge=level, temperature=2.0).targets
    targets = soften_teacher(
        proba, y, knowledge=level, temperature=2.0, top_k=2
    ).targets
    assert targets.q_T.shape == targets.top_index.shape == (len(y), 2)
    np.testing.assert_allclose(
        targets.q_T, -np.sort(-dense.q_T, axis=1)[:, :2], rtol=1e-6
    )
    np.testing.assert_allclose(
        targets.q_T.sum(axis=1) + 5 * targets.rest, 1.0, rtol=1e-6
    )


def test_knowledge_levels_are_built_in_float64(teacher):
    # A float32 teacher gives the same targets as its exact float64 copy.
    proba, y = teacher
    proba32 = proba.astype(np.float32)
    soft = soften_teacher(proba32, y, knowledge="domain", temperature=3.0)
    expected = soften_teacher(
        proba32.astype(np.float64), y, knowledge="domain", temperature=3.0
    )
    np.testing.assert_array_equal(soft.targets.q_T, expected.targets.q_T)
    np.testing.assert_array_equal(
        soft.knowledge_params.class_shapes, expected.knowledge_params.class_shapes
    )


# ------------------------------------------- what the teacher returns
class FixedProbaTeacher(ClassifierMixin, BaseEstimator):
    """Returns ``proba`` from predict_proba, whatever X."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.proba


def test_a_float32_teacher_keeps_its_dtype(binary_data):
    X, y = binary_data
    proba = np.column_stack([np.full(len(y), 0.25), np.full(len(y), 0.75)])
    _, got = fit_teacher_proba(
        FixedProbaTeacher(proba.astype(np.float32)), X, y, np.array([0, 1])
    )
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, proba)


@pytest.mark.parametrize(
    "proba, shape",
    [(np.full((59, 2), 0.5), r"\(59, 2\)"), (np.full((60, 3), 1 / 3), r"\(60, 3\)")],
)
def test_a_teacher_of_the_wrong_shape_is_an_error(binary_data, proba, shape):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"^teacher\.predict_proba\(X\) must have shape \(n_samples, n_classes\) "
        rf"= \(60, 2\) with columns in classes_ order; got shape {shape}\.$",
    ):
        fit_teacher_proba(FixedProbaTeacher(proba), X, y, np.array([0, 1]))


def test_the_error_of_a_teacher_without_classes_says_what_it_needs(binary_data):
    X, y = binary_data
    with pytest.raises(
        TypeError,
        match=r"^teacher must expose classes_ once fitted, as scikit-learn "
        r"classifiers do; NoClasses has none\.$",
    ):
        fit_teacher_proba(NoClasses(), X, y, np.array([0, 1]))


def test_align_columns_error_names_both_sets_of_classes():
    proba = np.array([[0.1, 0.9], [0.5, 0.5]])
    with pytest.raises(
        ValueError,
        match=r"^The teacher's classes_ must be the classes of y: the teacher "
        r"predicts \['a', 'b'\], y holds \['a', 'c'\]\.$",
    ):
        align_columns(proba, ["a", "b"], np.array(["a", "c"]))


@pytest.fixture(scope="module")
def sorted_labels(binary_data):
    """Rows sorted by class: unstratified folds would differ from stratified."""
    X, y = binary_data
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


def test_teacher_cv_is_stratified_and_passes_fit_params(sorted_labels):
    X, y = sorted_labels
    w = np.linspace(0.2, 2.0, len(y))
    FITS.clear()
    _, proba = fit_teacher_proba(
        CountingTeacher(), X, y, np.array([0, 1]), cv=3,
        fit_params={"sample_weight": w},
    )
    expected = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(3), method="predict_proba",
        params={"sample_weight": w},
    )
    np.testing.assert_allclose(proba, expected)
    # the fit on all rows, then one per fold, each with its rows' weights
    assert len(FITS) == 4
    np.testing.assert_array_equal(FITS[0], w)
    for (train, _), weights in zip(StratifiedKFold(3).split(X, y), FITS[1:]):
        np.testing.assert_array_equal(weights, w[train])


def test_out_of_fold_probabilities_must_match_the_classes(binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError,
        match=r"^out-of-fold teacher probabilities must have shape "
        r"\(n_samples, n_classes\) = \(60, 3\)",
    ):
        fit_teacher_proba(LogisticRegression(), X, y, np.array([0, 1, 2]), cv=2)


def test_teacher_probabilities_passes_cv_and_fit_params_on(sorted_labels):
    X, y = sorted_labels
    w = np.linspace(0.2, 2.0, len(y))
    result = teacher_probabilities(
        LogisticRegression(), X, y, np.array([0, 1]), cv=3,
        fit_params={"sample_weight": w},
    )
    expected = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(3), method="predict_proba",
        params={"sample_weight": w},
    )
    np.testing.assert_allclose(result.proba, expected)


# -- teachers that accept only the labels 0..n_classes-1 ---------------------
class IndexLabelsOnly(LogisticRegression):
    """Refuses labels other than 0..n_classes-1, as XGBoost's classifier does;
    counts its fits (of all clones)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        found = np.unique(y)
        if not np.array_equal(found, np.arange(len(found))):
            raise ValueError(f"Invalid classes: expected 0..k-1, got {found}")
        return super().fit(X, y, sample_weight=sample_weight)


class AlwaysFails(LogisticRegression):
    """Fails on any labels; counts its fits (of all clones)."""

    fits = 0
    error = ValueError

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        raise self.error("the teacher's own problem")


def _three_classes():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=90, n_features=4, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=0)
    return X, y


@pytest.mark.parametrize("names", [["cat", "dog", "eel"], [1, 2, 3], [0, 2, 7]])
def test_a_teacher_that_needs_label_indices_gets_them(names):
    from sklearn_kd.teachers import EncodedLabelsTeacher

    X, y_idx = _three_classes()
    y = np.array(names)[y_idx]
    classes = np.unique(y)
    w = np.linspace(0.5, 1.5, len(y))
    fitted, proba = fit_teacher_proba(
        IndexLabelsOnly(), X, y, classes, fit_params={"sample_weight": w}
    )
    assert isinstance(fitted, EncodedLabelsTeacher)
    assert isinstance(fitted.estimator_, IndexLabelsOnly)
    np.testing.assert_array_equal(fitted.classes_, classes)
    # the columns follow the labels: those of a teacher that takes them as
    # they are
    expected = LogisticRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(proba, expected.predict_proba(X), atol=1e-8)
    np.testing.assert_array_equal(fitted.predict(X), expected.predict(X))


def test_a_teacher_that_needs_label_indices_with_teacher_cv():
    X, y_idx = _three_classes()
    y = np.array(["cat", "dog", "eel"])[y_idx]
    cv = StratifiedKFold(3)
    _, proba = fit_teacher_proba(IndexLabelsOnly(), X, y, np.unique(y), cv=cv)
    expected = cross_val_predict(LogisticRegression(), X, y, cv=cv,
                                 method="predict_proba")
    np.testing.assert_allclose(proba, expected, atol=1e-8)


def test_a_teacher_given_label_indices_is_fitted_once():
    X, y = _three_classes()
    IndexLabelsOnly.fits = 0
    fitted, _ = fit_teacher_proba(IndexLabelsOnly(), X, y, np.unique(y))
    assert isinstance(fitted, IndexLabelsOnly) and IndexLabelsOnly.fits == 1


def test_a_teacher_failing_on_indices_too_raises_its_first_error(labelled):
    X, y, classes = labelled
    AlwaysFails.fits = 0
    with pytest.raises(ValueError, match="the teacher's own problem") as info:
        fit_teacher_proba(AlwaysFails(), X, y, classes)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert AlwaysFails.fits == 2


@pytest.mark.parametrize("error", [FloatingPointError, RuntimeError, MemoryError])
def test_a_teacher_failing_otherwise_is_not_fitted_twice(labelled, monkeypatch,
                                                        error):
    X, y, classes = labelled
    monkeypatch.setattr(AlwaysFails, "error", error)
    AlwaysFails.fits = 0
    with pytest.raises(error, match="the teacher's own problem"):
        fit_teacher_proba(AlwaysFails(), X, y, classes)
    assert AlwaysFails.fits == 1


def test_distilled_classifier_with_a_teacher_that_needs_label_indices():
    from sklearn_kd import DistilledClassifier
    from sklearn_kd.teachers import EncodedLabelsTeacher

    X, y_idx = _three_classes()
    y = np.array(["cat", "dog", "eel"])[y_idx]
    clf = DistilledClassifier(IndexLabelsOnly(), max_epochs=2,
                              hidden_layer_sizes=(4,), random_state=0).fit(X, y)
    assert isinstance(clf.teacher_, EncodedLabelsTeacher)
    np.testing.assert_array_equal(clf.teacher_.classes_, clf.classes_)
    assert set(clf.predict(X)) <= set(clf.classes_)
    # passed explicitly, the teacher is fitted once, on the indices
    IndexLabelsOnly.fits = 0
    DistilledClassifier(EncodedLabelsTeacher(IndexLabelsOnly()), max_epochs=1,
                        random_state=0).fit(X, y)
    assert IndexLabelsOnly.fits == 1


def test_a_frozen_teacher_fitted_on_label_indices():
    from sklearn_kd.teachers import EncodedLabelsTeacher

    X, y_idx = _three_classes()
    y = np.array(["cat", "dog", "eel"])[y_idx]
    inner = LogisticRegression().fit(X, y_idx)
    frozen = EncodedLabelsTeacher(FrozenEstimator(inner))
    fitted, proba = fit_teacher_proba(frozen, X, y, np.unique(y))
    np.testing.assert_array_equal(proba, inner.predict_proba(X))
    np.testing.assert_array_equal(fitted.predict(X), np.unique(y)[inner.predict(X)])
    # a frozen teacher is never refitted: fitted on the labels themselves,
    # its classes do not match y's and this says so
    with pytest.raises(ValueError, match="teacher's classes_ must be the classes"):
        fit_teacher_proba(FrozenEstimator(inner), X, y, np.unique(y))


def test_a_frozen_teacher_of_label_indices_is_pointed_to_the_wrapper():
    X, y_idx = _three_classes()
    y = np.array(["cat", "dog", "eel"])[y_idx]
    inner = LogisticRegression().fit(X, y_idx)
    with pytest.raises(ValueError, match="wrap it in sklearn_kd.teachers.Encoded"):
        fit_teacher_proba(FrozenEstimator(inner), X, y, np.unique(y))
    # other mismatches get no such hint
    with pytest.raises(ValueError, match=r"y holds \['a', 'b', 'c'\]\.$"):
        align_columns(np.full((1, 3), 1 / 3), ["a", "b", "d"],
                      np.array(["a", "b", "c"]))


def test_out_of_bag_probabilities_are_the_forests_own(labelled):
    from sklearn.ensemble import RandomForestClassifier

    X, y, classes = labelled
    forest = RandomForestClassifier(30, random_state=0)
    fitted, proba = fit_teacher_proba(forest, X, y, classes[::-1], cv="oob")
    assert fitted.oob_score and not forest.oob_score  # a clone was set
    np.testing.assert_allclose(proba, fitted.oob_decision_function_[:, ::-1])
    # further from one-hot than the in-sample probabilities
    in_sample = fitted.predict_proba(X)[:, ::-1]
    assert proba.max(axis=1).mean() < in_sample.max(axis=1).mean()


def test_rows_without_out_of_bag_trees_take_the_forests_prediction(binary_data):
    from sklearn.ensemble import RandomForestClassifier

    X, y = binary_data
    fitted, proba = fit_teacher_proba(
        RandomForestClassifier(2, random_state=0), X, y, np.array([0, 1]),
        cv="oob",
    )
    missing = ~(fitted.oob_decision_function_.sum(axis=1) > 0)
    assert missing.any()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[missing], fitted.predict_proba(X[missing]))


def test_auto_teacher_cv_is_out_of_bag_for_bagging_fitted_here_only():
    from sklearn.ensemble import (
        BaggingClassifier,
        ExtraTreesClassifier,
        RandomForestClassifier,
    )

    from sklearn_kd._teacher_step import resolve_teacher_cv

    forest = RandomForestClassifier()
    assert resolve_teacher_cv("auto", forest) == "oob"
    assert resolve_teacher_cv("auto", BaggingClassifier()) == "oob"
    assert resolve_teacher_cv("auto", ExtraTreesClassifier(bootstrap=True)) == "oob"
    assert resolve_teacher_cv("auto", ExtraTreesClassifier()) is None
    assert resolve_teacher_cv("auto", RandomForestClassifier(bootstrap=False)) is None
    assert resolve_teacher_cv("auto", FrozenEstimator(forest)) is None
    assert resolve_teacher_cv("auto", LogisticRegression()) is None
    assert resolve_teacher_cv("auto", None) is None
    assert resolve_teacher_cv(5, forest) == 5
    assert resolve_teacher_cv(None, forest) is None
