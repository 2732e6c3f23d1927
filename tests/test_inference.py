"""The prediction path: the prepared student computes what the student does."""

import copy
import pickle

import numpy as np
import pytest
import torch
from scipy.special import softmax
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from sklearn_kd import DistilledClassifier
from sklearn_kd._inference import PreparedStudent, plan_for, prepare

TINY = dict(alpha=0.0, max_epochs=3, hidden_layer_sizes=(16,), random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    return X, y


def _module_proba(clf, X):
    """The student module's own forward pass, as the 0.x path computed it."""
    module = clf.student_.module_.eval()
    with torch.inference_mode():
        logits = module(torch.as_tensor(X, dtype=torch.float32))
    return softmax(logits.double().numpy(), axis=1)


STUDENTS = [
    dict(architecture="mlp"),
    dict(architecture="mlp", hidden_layer_sizes=()),
    dict(architecture="mlp", hidden_layer_sizes=(8, 8), activation="tanh"),
    dict(architecture="mlp", activation="gelu"),
    # 64 hidden units, 3 classes: the last layer one product per class
    dict(architecture="mlp", hidden_layer_sizes=(64,)),
    dict(architecture="ple", n_bins=4),
    dict(architecture="resnet"),
]


@pytest.mark.parametrize("params", STUDENTS)
def test_predictions_equal_the_module_forward(data, params):
    if params["architecture"] != "mlp":
        pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    clf = DistilledClassifier(**{**TINY, **params}).fit(X, y)
    expected = _module_proba(clf, X)
    for rows in (X, X[:1], X.astype(np.float32), X.tolist()):
        n = len(rows)
        np.testing.assert_allclose(clf.predict_proba(rows), expected[:n],
                                   rtol=0, atol=1e-6)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(expected),
                               rtol=0, atol=1e-5)
    assert (clf.predict(X) == clf.classes_[expected.argmax(axis=1)]).all()


def test_unfoldable_standardisation_predicts_like_the_module(data):
    X, y = data
    X = X + 1e4  # means far from zero relative to the scales: not folded
    clf = DistilledClassifier(architecture="mlp", **TINY).fit(X, y)
    assert not clf.student_.module_.foldable()
    prepared = prepare(clf.student_.module_)
    assert prepared.standardise
    np.testing.assert_allclose(clf.predict_proba(X), _module_proba(clf, X),
                               rtol=0, atol=1e-6)


def test_default_student_of_a_tree_teacher_is_prepared(data):
    pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    # named: "auto" chooses from its ladder on the data
    clf = DistilledClassifier(HistGradientBoostingClassifier(max_iter=10),
                              architecture="ple-teacher", max_epochs=3,
                              random_state=0).fit(X, y)
    assert clf.architecture_ == "ple-teacher"
    assert isinstance(prepare(clf.student_.module_), PreparedStudent)
    np.testing.assert_allclose(clf.predict_proba(X), _module_proba(clf, X),
                               rtol=0, atol=1e-6)


class Custom(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, X):
        return self.linear(self.drop(X))


def test_custom_module_is_called_as_it_is_in_eval_mode(data):
    X, y = data
    clf = DistilledClassifier(module=Custom, alpha=0.0, max_epochs=2,
                              random_state=0).fit(X, y)
    assert prepare(clf.student_.module_) is None
    clf.student_.module_.train()  # dropout would make predictions random
    first = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict_proba(X), first)
    np.testing.assert_allclose(first, _module_proba(clf, X), rtol=0, atol=1e-6)


def test_weights_changed_in_place_are_seen(data):
    X, y = data
    clf = DistilledClassifier(architecture="mlp", **TINY).fit(X, y)
    other = DistilledClassifier(architecture="mlp", **{**TINY, "random_state": 1})
    other.fit(X, y)
    before = clf.predict_proba(X)
    plan = plan_for(clf.student_.module_)
    assert plan_for(clf.student_.module_) is plan  # kept between calls
    clf.student_.module_.load_state_dict(other.student_.module_.state_dict())
    np.testing.assert_allclose(clf.predict_proba(X), other.predict_proba(X),
                               rtol=0, atol=1e-6)
    assert not np.allclose(clf.predict_proba(X), before)
    # a parameter replaced by a new one
    last = clf.student_.module_.layers[-1]
    last.bias = torch.nn.Parameter(last.bias.detach() + 100 * torch.arange(3.0))
    assert (clf.predict(X) == clf.classes_[2]).all()


def test_prediction_leaves_the_estimator_and_its_pickle_as_they_were(data):
    X, y = data
    clf = DistilledClassifier(architecture="mlp", **TINY).fit(X, y)
    state = dict(clf.__dict__)
    size = len(pickle.dumps(clf))
    clf.predict_proba(X)
    assert clf.__dict__ == state
    assert len(pickle.dumps(clf)) == size
    copied = copy.deepcopy(clf)
    np.testing.assert_array_equal(copied.predict_proba(X), clf.predict_proba(X))


def test_overhead_benchmark_measures_both_paths(data):
    from benchmarks.predict_overhead import measure

    X, y = data
    clf = DistilledClassifier(architecture="mlp", **TINY).fit(X, y)
    names, medians, error = measure(clf, X[:5], repeats=2)
    assert names[-1] == "whole call" and "network" in names
    sides = ("before", "torch", "after")
    assert set(medians) == {(side, n) for side in sides for n in names}
    assert error < 1e-6


def test_relu_form_of_the_encoding_computes_the_same(data):
    pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    X = X.copy()
    X[:, 1] = (X[:, 1] > 0).astype(float)  # a binary feature: a single bin
    clf = DistilledClassifier(architecture="ple", n_bins=5, **TINY).fit(X, y)
    prepared = prepare(clf.student_.module_)
    relu = prepared.relu_form()
    assert relu.relu_encoding and not prepared.relu_encoding
    # every bin, the single one included, inside and far outside the range
    rows = torch.as_tensor(np.vstack([X, 50 * X, -50 * X]), dtype=torch.float32)
    with torch.inference_mode():
        want = prepared.forward(rows)
        got = relu.forward(rows)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    mlp = prepare(DistilledClassifier(architecture="mlp", **TINY).fit(X, y)
                  .student_.module_)
    assert mlp.relu_form() is mlp  # nothing to rewrite


def test_any_memory_layout_predicts_the_same(data):
    X, y = data
    clf = DistilledClassifier(architecture="mlp", **TINY).fit(X, y)
    expected = clf.predict_proba(X)
    X32 = X.astype(np.float32)
    cases = [
        (X32[::-1], expected[::-1]),  # negative strides
        (X[::-1], expected[::-1]),
        (X32[::2], expected[::2]),
        (np.asfortranarray(X32), expected),
        (np.asfortranarray(X), expected),
    ]
    for rows, want in cases:
        np.testing.assert_allclose(clf.predict_proba(rows), want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("architecture", ["mlp", "ple"])
def test_students_with_missing_values_are_prepared(data, architecture):
    if architecture != "mlp":
        pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    X = X.copy()
    X[::7, 0] = np.nan  # NaN in fit: a missing indicator for feature 0
    clf = DistilledClassifier(architecture=architecture, n_bins=4, **TINY).fit(X, y)
    module = clf.student_.module_
    assert getattr(module, "handles_missing", False)
    prepared = prepare(module)
    assert isinstance(prepared, PreparedStudent) and prepared.n_indicators == 1
    rows = X.copy()
    rows[::5, 2] = np.nan  # NaN where fit saw none: filled, no indicator
    np.testing.assert_allclose(clf.predict_proba(rows), _module_proba(clf, rows),
                               rtol=0, atol=1e-6)
    tensor = torch.as_tensor(rows, dtype=torch.float32)
    with torch.inference_mode():
        np.testing.assert_allclose(prepared.relu_form().forward(tensor),
                                   prepared.forward(tensor), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("hidden", [(), (5,), (5, 4)])
def test_numpy_encoding_of_any_slope_and_bounds_equals_torch(relu, hidden):
    # the numpy path gathers each bin's feature, subtracts the bin's edge and
    # clamps; slopes of either sign or zero, one-sided and unbounded bins,
    # with or without hidden layers, must give the torch form's logits
    rng = np.random.default_rng(0)
    index = [0, 0, 0, 1, 1, 2, 2, 0]
    slopes = [2.0, -1.5, 0.0, 0.5, 3.0, -2.0, 1.0, 0.25]
    matrix = torch.zeros(3, len(index))
    matrix[index, torch.arange(len(index))] = torch.tensor(slopes)
    inf = float("inf")
    encoding = dict(
        matrix=matrix,
        bias=torch.tensor(rng.normal(size=len(index)), dtype=torch.float32),
        lower=None if relu else torch.tensor(
            [0, -inf, 0, 0, -inf, 0, -inf, 0]),
        upper=torch.tensor([1, 1, inf, 1, inf, 1, 1, inf]),
    )
    widths = [len(index), *hidden, 2]
    layers = [
        (torch.tensor(rng.normal(size=(out, inp)), dtype=torch.float32),
         torch.tensor(rng.normal(size=out), dtype=torch.float32))
        for inp, out in zip(widths[:-1], widths[1:])
    ]
    prepared = PreparedStudent(layers, torch.relu_, encoding=encoding)
    rows = (rng.normal(size=(300, 3)) * 3).astype(np.float32)
    with torch.inference_mode():
        want = prepared.logits_t(torch.from_numpy(rows.copy())).numpy()
    for n in (300, 1):
        got = prepared.numpy_logits_t(rows[:n], finite=True)
        np.testing.assert_allclose(got, want[:, :n], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("params", STUDENTS[:-1])
@pytest.mark.parametrize("missing", [False, True])
def test_numpy_forward_equals_the_torch_forward(data, params, missing):
    # predict_proba runs the prepared student in numpy on the CPU; its torch
    # form (GPU, ONNX export) must compute the same logits, missing values
    # (filled, with their indicators) included, and leave X as it is
    if params["architecture"] != "mlp":
        pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    X = X.copy()
    if missing:
        X[::7, 0] = np.nan
    clf = DistilledClassifier(**{**TINY, **params}).fit(X, y)
    prepared = prepare(clf.student_.module_)
    assert prepared.fills or not missing
    if params.get("hidden_layer_sizes") == (64,):
        assert prepared._arrays()["per_output"]
    rows = np.ascontiguousarray(X, dtype=np.float32)
    before = rows.copy()
    got = prepared.numpy_logits_t(rows)
    with torch.inference_mode():
        want = prepared.logits_t(torch.from_numpy(rows.copy())).numpy()
    np.testing.assert_array_equal(rows, before)
    assert got.dtype == np.float32 and got.shape == (3, len(X))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # a handful of rows takes the path without the per-output last layer
    few = prepared.numpy_logits_t(rows[:5])
    np.testing.assert_allclose(few, want[:, :5], rtol=1e-5, atol=1e-5)
    # 5,000 rows
    many = np.tile(rows, (25, 1))
    np.testing.assert_allclose(prepared.numpy_logits_t(many),
                               np.tile(want, (1, 25)), rtol=1e-5, atol=1e-5)


def test_binary_probabilities_are_the_softmax_to_the_last_digit():
    # two classes take the logistic function of the logits' difference,
    # each from its own side: a probability of 1e-20 keeps its digits
    from sklearn_kd._distilled import _binary_proba

    rng = np.random.default_rng(0)
    margin = np.concatenate([rng.normal(0, 3, 50), np.linspace(-60, 60, 50)])
    margin = margin.astype(np.float32)
    logits = np.stack([np.zeros_like(margin), margin], axis=1)
    expected = softmax(logits.astype(np.float64), axis=1)
    proba = _binary_proba(margin)
    assert proba.shape == (100, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba, expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    assert proba.min() < 1e-20  # the far rows are in the test


BINARY_STUDENTS = [
    dict(architecture="mlp"),
    dict(architecture="mlp", hidden_layer_sizes=()),
    dict(architecture="mlp", hidden_layer_sizes=(8, 8), activation="tanh"),
    dict(architecture="ple", n_bins=4),
    dict(architecture="ple", n_bins=4, hidden_layer_sizes=()),
    dict(architecture="resnet"),
]


@pytest.mark.parametrize("params", BINARY_STUDENTS)
@pytest.mark.parametrize("n_features", [6, 40])
def test_two_classes_predict_from_the_margin(params, n_features):
    # a binary student's predict_proba and predict read logit_1 - logit_0,
    # computed in one product with the difference of the last layer's rows
    # (40 features: the rows multiplied as they are); both agree with the
    # module's own logits
    if params["architecture"] != "mlp":
        pytest.importorskip("rtdl_num_embeddings")
    X, y = make_classification(n_samples=200, n_features=n_features,
                               n_informative=4, random_state=0)
    clf = DistilledClassifier(**{**TINY, **params}).fit(X, y)
    module = clf.student_.module_.eval()
    with torch.inference_mode():
        logits = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    prepared = plan_for(module).prepared
    if prepared is not None:  # the numpy path gives the margin itself
        assert prepared.has_margin
        rows = np.ascontiguousarray(X, dtype=np.float32)
        margin = prepared.numpy_logits_t(rows, margin=True)
        assert margin.shape == (len(X),) and margin.dtype == np.float32
        np.testing.assert_allclose(margin, logits[:, 1] - logits[:, 0],
                                   rtol=1e-5, atol=1e-5)
    expected = softmax(logits.astype(np.float64), axis=1)
    for rows in (X, X[:1]):
        np.testing.assert_allclose(clf.predict_proba(rows),
                                   expected[: len(rows)], rtol=0, atol=1e-6)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict(X),
                                  clf.classes_[proba.argmax(axis=1)])
    # labels that are not 0/1 come back as they were given
    named = DistilledClassifier(**{**TINY, **params}).fit(
        X, np.where(y == 1, "yes", "no"))
    assert set(named.predict(X)) <= {"yes", "no"}
    np.testing.assert_array_equal(named.predict(X) == "yes",
                                  named.predict_proba(X)[:, 1] > 0.5)


@pytest.mark.parametrize("hidden", [(16,), (16, 8)])
def test_wide_rows_are_multiplied_as_they_are(hidden):
    # from ROW_LAYOUT_MIN_INPUTS columns the first layer takes the rows
    # without a transposed copy; the probabilities stay the module's
    from sklearn_kd._inference import ROW_LAYOUT_MIN_INPUTS

    X, y = make_classification(n_samples=300, n_features=ROW_LAYOUT_MIN_INPUTS + 8,
                               n_informative=6, n_classes=3, random_state=0)
    clf = DistilledClassifier(architecture="mlp",
                              **{**TINY, "hidden_layer_sizes": hidden}).fit(X, y)
    prepared = prepare(clf.student_.module_)
    assert "rows_first" in prepared._arrays()
    for rows in (X, X[:1], X[:70]):  # the last layer per output from 64 rows
        np.testing.assert_allclose(clf.predict_proba(rows),
                                   _module_proba(clf, rows), rtol=0, atol=1e-6)
    # narrow rows keep the transposed copy with the bias folded in
    narrow = DistilledClassifier(architecture="mlp", **TINY).fit(X[:, :8], y)
    assert "rows_first" not in prepare(narrow.student_.module_)._arrays()
