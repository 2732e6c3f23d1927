"""The students: the default MLP (standardisation, its statistics) and the
tabular students (encodings, residual blocks, bins from teacher splits)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from sklearn_kd import DistilledClassifier, MLPStudent, _student
from sklearn_kd._student import (
    ARCHITECTURES,
    TabularStudent,
    compute_bins,
    standardisation_statistics,
    teacher_thresholds,
)

pytest.importorskip("rtdl_num_embeddings")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=80, n_features=4, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=0)
    X[:, 3] = 2.0  # a constant feature
    return X, y


@pytest.mark.parametrize("encoding", [None, "piecewise", "periodic"])
@pytest.mark.parametrize("residual", [False, True])
def test_forward_shapes(data, encoding, residual):
    X, _ = data
    net = TabularStudent(4, 3, hidden_layer_sizes=(6, 5), encoding=encoding,
                         bins=compute_bins(X, 4), residual=residual)
    out = net(torch.as_tensor(X, dtype=torch.float32))
    assert out.shape == (len(X), 3) and torch.isfinite(out).all()


@pytest.mark.parametrize("n_bins", [2, 3, 8])
def test_piecewise_encoding_equals_the_library_encoding(n_bins):
    # the flat encoding is the one rtdl_num_embeddings computes, for features
    # with one bin, with fewer bins than the others and with the most bins,
    # inside and far outside the range of the edges
    import warnings

    from rtdl_num_embeddings import PiecewiseLinearEncoding

    rng = np.random.RandomState(n_bins)
    X = rng.normal(size=(200, 4))
    X[:, 1] = rng.randint(0, 2, size=200)  # one bin
    X[:, 2] = rng.randint(0, 3, size=200)  # two bins
    bins = compute_bins(X, n_bins)
    net = TabularStudent(4, 3, hidden_layer_sizes=(), encoding="piecewise",
                         bins=bins)
    Xt = torch.as_tensor(np.vstack([X, 5 * X, -5 * X]), dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = PiecewiseLinearEncoding([torch.as_tensor(b) for b in bins])(Xt)
    # the encoding is the input of the (only) linear layer
    seen = []
    net.layers[0].register_forward_hook(lambda m, args, out: seen.append(args[0]))
    net(Xt)
    assert seen[0].shape == expected.shape
    torch.testing.assert_close(seen[0], expected, rtol=0, atol=0)


def test_piecewise_needs_bins():
    with pytest.raises(ValueError, match="bins"):
        TabularStudent(2, 2, encoding="piecewise")
    with pytest.raises(ValueError, match="encoding"):
        TabularStudent(2, 2, encoding="fourier")


@pytest.mark.parametrize("kind", ["quantile", "tree", "thresholds"])
def test_compute_bins_are_valid(data, kind):
    X, y = data
    kwargs = {"tree": dict(y=y),
              "thresholds": dict(thresholds=[np.array([0.0, 0.5]), np.array([]),
                                             np.array([1.0]), np.array([])])
              }.get(kind, {})
    bins = compute_bins(X, 5, **kwargs)
    assert len(bins) == 4
    for j, edges in enumerate(bins):
        assert len(edges) >= 2 and (np.diff(edges) > 0).all()
        assert len(edges) <= 6 + 2
        if np.ptp(X[:, j]) > 0:
            assert edges[0] <= X[:, j].min() + 1e-6
            assert edges[-1] >= X[:, j].max() - 1e-6


@pytest.mark.parametrize(
    "teacher",
    [RandomForestClassifier(5, random_state=0),
     HistGradientBoostingClassifier(max_iter=5, random_state=0),
     GradientBoostingClassifier(n_estimators=3, random_state=0)],
)
def test_teacher_thresholds(data, teacher):
    X, y = data
    teacher.fit(X, y)
    found = teacher_thresholds(FrozenEstimator(teacher), X.shape[1])
    assert len(found) == X.shape[1]
    assert sum(len(f) for f in found[:3]) > 0
    assert len(found[3]) == 0  # never splits a constant feature
    for j, f in enumerate(found):
        assert ((f >= X[:, j].min()) & (f <= X[:, j].max())).all()


def test_teacher_thresholds_of_other_models(data):
    X, y = data
    assert teacher_thresholds(LogisticRegression().fit(X, y), 4) is None


@pytest.mark.parametrize("architecture", [a for a in ARCHITECTURES if a != "mlp"])
def test_architectures_fit(data, architecture):
    X, y = data
    clf = DistilledClassifier(
        RandomForestClassifier(5, random_state=0), architecture=architecture,
        hidden_layer_sizes=(6,), n_bins=4, max_epochs=2, random_state=0,
    ).fit(X, y)
    assert isinstance(clf.student_.module_, TabularStudent)
    assert clf.architecture_ == architecture
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_ple_teacher_uses_teacher_splits(data):
    X, y = data
    forest = RandomForestClassifier(5, random_state=0).fit(X, y)
    clf = DistilledClassifier(FrozenEstimator(forest), architecture="ple-teacher",
                              hidden_layer_sizes=(4,), n_bins=3, max_epochs=1,
                              random_state=0).fit(X, y)
    expected = compute_bins(X, 3, thresholds=teacher_thresholds(forest, 4))
    n_inputs = clf.student_.module_.layers[0].in_features
    assert n_inputs == sum(len(b) - 1 for b in expected)


def test_auto_on_too_few_rows_builds_the_perceptron(data):
    # 80 rows: too few to hold out enough for the ladder (see test_ladder.py)
    X, y = data
    clf = DistilledClassifier(RandomForestClassifier(5, random_state=0),
                              hidden_layer_sizes=(4,), max_epochs=1,
                              random_state=0).fit(X, y)
    assert clf.architecture == "auto"
    assert clf.architecture_ == "mlp" and clf.architecture_scores_ is None
    assert type(clf.student_.module_) is MLPStudent


def test_bad_architecture(data):
    X, y = data
    with pytest.raises(ValueError, match="architecture"):
        DistilledClassifier(alpha=0, architecture="transformer").fit(X, y)


# ------------------------------------------------------ the default MLP student

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_statistics_in_one_pass_equal_numpys(dtype, monkeypatch):
    # blocks of 7 rows: many merges, and a last partial block
    monkeypatch.setattr(_student, "STATISTICS_BLOCK_BYTES", 8 * 3 * 7)
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((101, 3)) * [1.0, 1e-3, 50.0] + [0.0, 5.0, 1e4]).astype(
        dtype
    )
    X[:, 0] = 2.5  # a constant column gets scale 1
    before = X.copy()
    mean, scale = standardisation_statistics(X)
    np.testing.assert_array_equal(X, before)
    reference = X.astype(np.float64)
    np.testing.assert_allclose(mean, reference.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scale[1:], reference.std(axis=0)[1:], rtol=1e-10)
    assert scale[0] == 1.0


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_folded_standardisation_gives_the_standardised_network(offset):
    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.standard_normal((20, 4)) * 3 + offset, dtype=torch.float32)
    torch.manual_seed(0)
    net = MLPStudent(4, 3, (6,), mean=X.mean(0).numpy(), scale=X.std(0).numpy())
    assert net.foldable() is (offset == 0.0)
    expected = net.layers((X - net.mean) / net.scale)
    torch.testing.assert_close(net(X), expected, rtol=1e-5, atol=1e-5)


def test_fold_is_decided_again_when_the_statistics_are_loaded():
    net = MLPStudent(2, 2, (3,))
    X = torch.full((1, 2), 1e4)
    net(X)  # mean 0, scale 1: folded
    state = net.state_dict()
    state["mean"] = torch.full((2,), 1e4)
    net.load_state_dict(state)
    assert not net.foldable()
    torch.testing.assert_close(
        net(X), net.layers((X - net.mean) / net.scale), rtol=0, atol=1e-6
    )


def test_architecture_is_none_with_a_custom_module(data):
    X, y = data
    clf = DistilledClassifier(
        alpha=0.0, module=MLPStudent, max_epochs=1, random_state=0
    ).fit(X, y)
    assert clf.architecture_ is None
