"""Behaviour of DistilledClassifier as a scikit-learn estimator."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from references import np_kd_per_sample
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback
from torch import nn

import sklearn_kd._batch as batch
import sklearn_kd._distilled as distilled
import sklearn_kd._teacher_targets as teacher_targets
from sklearn_kd import DistilledClassifier, OverconfidentTeacherWarning
from sklearn_kd.knowledge import apply_knowledge, fit_knowledge
from sklearn_kd.losses import soften

FAST = dict(max_epochs=15, hidden_layer_sizes=(16,), lr=1e-2, random_state=0)

# The honest exceptions to scikit-learn's common checks.
EXPECTED_FAILED_CHECKS = {
    # Mini-batch stochastic training: repeating a row changes the number and
    # composition of batches, so sample_weight=2 cannot equal a duplicated row
    # bit for bit (MLPClassifier and SGDClassifier are exempt for the same
    # reason).
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch training is not invariant to repeating rows"
    ),
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [DistilledClassifier(LogisticRegression(), **FAST)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    """Overrides the shared ``data``: the estimator tests count rows and
    features of a larger problem (240 rows, 8 features, 3 classes)."""
    return make_classification(
        n_samples=240, n_features=8, n_informative=5, n_classes=3, random_state=0
    )


#: predict_proba calls per CountingTeacher key; module-level because clone
#: and joblib copy the estimators.
CALLS = {}


class CountingTeacher(LogisticRegression):
    """A teacher that records the size of each predict_proba call."""

    def __init__(self, key="default", C=1.0):
        super().__init__(C=C)
        self.key = key

    def predict_proba(self, X):
        CALLS.setdefault(self.key, []).append(len(X))
        return super().predict_proba(X)


class EpochCounter(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


def test_fit_predict_shapes_and_attributes(data):
    X, y = data
    clf = DistilledClassifier(LogisticRegression(), temperature=2.0, **FAST)
    clf.fit(X, y)
    assert clf.predict(X).shape == (len(X),)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_features_in_ == X.shape[1]
    assert isinstance(clf.teacher_, LogisticRegression)
    # The fitted skorch net's module computes the logits behind predict_proba.
    with torch.no_grad():
        logits = clf.student_.module_(torch.as_tensor(X, dtype=torch.float32))
    np.testing.assert_allclose(
        proba, softmax(logits.double().numpy(), axis=1), rtol=1e-6, atol=1e-12
    )
    assert len(clf.history_) == clf.n_iter_ <= FAST["max_epochs"]
    np.testing.assert_allclose(
        clf.predict_log_proba(X), np.log(proba), rtol=1e-6, atol=1e-9
    )


def test_teacher_called_once_per_fit(data):
    X, y = data
    counter = EpochCounter()
    clf = DistilledClassifier(
        CountingTeacher(key="once"),
        callbacks=[counter],
        n_iter_no_change=None,
        **FAST,
    )
    clf.fit(X, y)
    assert CALLS["once"] == [len(X)]
    assert clf.n_iter_ == FAST["max_epochs"]
    # user callbacks run, on a copy: the object passed in is left untouched
    assert clf.student_.callbacks_[-1][1].epochs_ == FAST["max_epochs"]
    assert not hasattr(counter, "epochs_")


def test_teacher_cv_is_out_of_fold(data):
    X, y = data
    teacher = CountingTeacher(key="oof")
    clf = DistilledClassifier(teacher, teacher_cv=3, alpha=1.0, **FAST).fit(X, y)
    # three fold models predict their held-out rows, once each
    assert CALLS["oof"] == [80, 80, 80]
    # the fitted teacher_ is refitted on all rows
    assert isinstance(clf.teacher_, CountingTeacher)
    expected = cross_val_predict(
        LogisticRegression(), X, y, cv=3, method="predict_proba"
    )
    in_sample = clf.teacher_.predict_proba(X)
    assert not np.allclose(expected, in_sample)


def test_teacher_proba_matches_teacher(data):
    """A precomputed matrix gives the same student as the teacher itself."""
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    a = DistilledClassifier(FrozenEstimator(teacher), **FAST).fit(X, y)
    b = DistilledClassifier(**FAST).fit(X, y, teacher_proba=teacher.predict_proba(X))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.teacher_.estimator is teacher
    assert b.teacher_ is None


def test_teacher_columns_aligned_by_label(data):
    """A teacher trained with its classes in another order is realigned."""
    X, y = data
    labels = np.array(["c", "a", "b"])[y]

    class Reversed(LogisticRegression):
        def fit(self, X, y):
            super().fit(X, y)
            order = np.arange(len(self.classes_))[::-1]
            self.classes_ = self.classes_[order]
            self.coef_ = self.coef_[order]
            self.intercept_ = self.intercept_[order]
            return self

    teacher = FrozenEstimator(Reversed().fit(X, labels))
    assert list(teacher.classes_) == ["c", "b", "a"]
    plain = LogisticRegression().fit(X, labels)
    a = DistilledClassifier(teacher, **FAST).fit(X, labels)
    b = DistilledClassifier(**FAST).fit(X, labels, teacher_proba=plain.predict_proba(X))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)
    assert set(a.predict(X)) <= {"a", "b", "c"}


def test_teacher_with_other_classes_is_an_error(data):
    X, y = data
    teacher = FrozenEstimator(LogisticRegression().fit(X, y + 1))
    with pytest.raises(ValueError, match="teacher's classes_ must be the classes"):
        DistilledClassifier(teacher, **FAST).fit(X, y)


def test_string_labels_and_pandas(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    clf = DistilledClassifier(RandomForestClassifier(10, random_state=0), **FAST)
    clf.fit(df, labels)
    assert list(clf.feature_names_in_) == list(df.columns)
    pred = clf.predict(df)
    assert pred.dtype == labels.dtype
    assert set(pred) <= set(labels)
    assert clf.score(df, labels) > 0.5


def test_in_pipeline(data):
    X, y = data
    pipe = make_pipeline(
        StandardScaler(), DistilledClassifier(LogisticRegression(), **FAST)
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.7


def test_frozen_pipeline_teacher_on_raw_features(data):
    """A teacher pipeline expecting raw features; the student copes alone."""
    X, y = data
    X_raw = X * np.array([1e3, 1e-3, 1, 1, 1, 1e2, 1, 1]) + 50
    teacher = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_raw, y)
    clf = DistilledClassifier(FrozenEstimator(teacher), **FAST).fit(X_raw, y)
    agreement = np.mean(clf.predict(X_raw) == teacher.predict(X_raw))
    assert agreement > 0.8


@pytest.mark.parametrize("use_proba", [False, True])
def test_grid_search_over_temperature_and_alpha(data, use_proba):
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    grid = {"temperature": [0.5, 4.0], "alpha": [0.0, 0.9]}
    if use_proba:
        est, fit_params = (
            DistilledClassifier(**FAST),
            {"teacher_proba": teacher.predict_proba(X)},
        )
    else:
        est, fit_params = DistilledClassifier(FrozenEstimator(teacher), **FAST), {}
    search = GridSearchCV(est, grid, cv=3).fit(X, y, **fit_params)
    assert search.best_params_.keys() == grid.keys()
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert len(search.cv_results_["params"]) == 4


def test_grid_search_slices_teacher_proba(data):
    """Each fold's student sees exactly its rows of teacher_proba."""
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    proba = teacher.predict_proba(X)
    seen = []

    class Recording(DistilledClassifier):
        def fit(self, X, y, teacher_proba=None, **kw):
            seen.append((len(X), None if teacher_proba is None else len(teacher_proba)))
            return super().fit(X, y, teacher_proba=teacher_proba, **kw)

    GridSearchCV(Recording(**FAST), {"alpha": [0.5]}, cv=3, refit=False).fit(
        X, y, teacher_proba=proba
    )
    assert seen == [(160, 160)] * 3


def test_pickle_round_trip(data):
    X, y = data
    clf = DistilledClassifier(LogisticRegression(), **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), restored.predict_proba(X))


def test_same_random_state_same_predictions(data):
    X, y = data
    est = DistilledClassifier(LogisticRegression(), early_stopping=True, **FAST)
    a = clone(est).fit(X, y).predict_proba(X)
    b = clone(est).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = clone(est).set_params(random_state=1).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


def test_global_torch_rng_untouched(data):
    X, y = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DistilledClassifier(LogisticRegression(), **FAST).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_alpha_zero_needs_no_teacher(data):
    X, y = data
    clf = DistilledClassifier(alpha=0.0, **FAST).fit(X, y)
    assert clf.teacher_ is None
    assert clf.score(X, y) > 0.7


def test_alpha_zero_ignores_teacher_targets(data):
    """alpha=0 is plain cross-entropy: the teacher cannot change the student."""
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    noisy = np.random.default_rng(0).dirichlet(np.ones(3), size=len(y))
    a = DistilledClassifier(alpha=0.0, **FAST).fit(X, y, teacher_proba=noisy)
    b = DistilledClassifier(FrozenEstimator(teacher), alpha=0.0, **FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_missing_teacher_is_an_error(data):
    X, y = data
    with pytest.raises(ValueError, match="needs a teacher"):
        DistilledClassifier(**FAST).fit(X, y)


def test_both_teacher_and_proba_is_an_error(data):
    X, y = data
    proba = np.full((len(y), 3), 1 / 3)
    with pytest.raises(ValueError, match="either a teacher or teacher_proba"):
        DistilledClassifier(LogisticRegression(), **FAST).fit(X, y, teacher_proba=proba)


def test_frozen_teacher_with_teacher_cv_is_an_error(data):
    X, y = data
    teacher = FrozenEstimator(LogisticRegression().fit(X, y))
    with pytest.raises(ValueError, match="teacher_cv needs a teacher"):
        DistilledClassifier(teacher, teacher_cv=3, **FAST).fit(X, y)


class TinyNet(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.linear(X)


@pytest.mark.parametrize("given", ["class", "instance"])
def test_custom_module(data, given):
    X, y = data
    module = TinyNet
    if given == "instance":
        # its starting weights are the user's: seeded, not left to whatever
        # the global generator holds when the test runs
        with torch.random.fork_rng():
            torch.manual_seed(0)
            module = TinyNet(X.shape[1], 3)
    X = StandardScaler().fit_transform(X)
    clf = DistilledClassifier(LogisticRegression(), module=module, **FAST).fit(X, y)
    assert isinstance(clf.student_.module_, TinyNet)
    assert clf.score(X, y) > 0.6
    if isinstance(module, nn.Module):
        # the user's instance is copied, not trained in place
        assert clf.student_.module_ is not module


def test_module_class_must_be_a_torch_module(data):
    X, y = data
    with pytest.raises(TypeError, match="module must be a subclass"):
        DistilledClassifier(LogisticRegression(), module=dict, **FAST).fit(X, y)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw", torch.optim.RMSprop])
def test_optimizers(data, optimizer):
    X, y = data
    clf = DistilledClassifier(LogisticRegression(), optimizer=optimizer, **FAST)
    clf.fit(X, y)
    assert np.isfinite(clf.history_[-1, "train_loss"])


def test_self_distillation(data):
    X, y = data
    clf = DistilledClassifier("self", alpha=0.8, temperature=2.0, **FAST).fit(X, y)
    assert isinstance(clf.teacher_, DistilledClassifier)
    assert clf.teacher_.alpha == 0.0
    assert clf.teacher_.hidden_layer_sizes == clf.hidden_layer_sizes
    agreement = np.mean(clf.predict(X) == clf.teacher_.predict(X))
    assert agreement > 0.7


class SplitProbe(Callback):
    """Records the rows of skorch's train and validation datasets."""

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.train_rows_ = np.asarray(dataset_train.indices)
        self.valid_rows_ = np.asarray(dataset_valid.indices)


def _probe(clf):
    return dict(clf.student_.callbacks_)["split_probe"]


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_early_stopping_validation_rows_are_stratified(random_state):
    # 60 / 22.5 / 11.25 / 6.25 % classes; 20 % of the 400 rows are held out.
    y = np.repeat([0, 1, 2, 3], [240, 90, 45, 25])
    X = np.random.default_rng(random_state).normal(size=(len(y), 3)) + y[:, None]
    clf = DistilledClassifier(
        LogisticRegression(),
        early_stopping=True,
        validation_fraction=0.2,
        callbacks=[("split_probe", SplitProbe())],
        max_epochs=1,
        hidden_layer_sizes=(2,),
        random_state=random_state,
    ).fit(X, y)
    probe = _probe(clf)
    rows = np.concatenate([probe.train_rows_, probe.valid_rows_])
    np.testing.assert_array_equal(np.sort(rows), np.arange(len(y)))
    # Every class is held out in proportion: 48 / 18 / 9 / 5 of the 80 rows.
    counts = np.bincount(y[probe.valid_rows_], minlength=4)
    np.testing.assert_array_equal(counts, [48, 18, 9, 5])


def test_early_stopping_restores_the_best_validation_epoch(data):
    X, y = data
    q = LogisticRegression(C=0.1).fit(X, y).predict_proba(X)
    T, alpha, patience = 2.0, 0.5, 2
    clf = DistilledClassifier(
        None,
        temperature=T,
        alpha=alpha,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=patience,
        tol=0.0,
        callbacks=[("split_probe", SplitProbe())],
        max_epochs=60,
        hidden_layer_sizes=(16,),
        lr=0.05,
        random_state=0,
    ).fit(X, y, teacher_proba=q)
    valid_loss = np.asarray(clf.history_[:, "valid_loss"])
    best = int(np.argmin(valid_loss))
    # Training stopped after `patience` epochs without a new best ...
    assert clf.n_iter_ < 60
    assert clf.n_iter_ == best + 1 + patience
    # ... and the student kept the weights of the best epoch: its loss on the
    # held-out rows, recomputed from its predictions, is the best valid_loss.
    valid = _probe(clf).valid_rows_
    log_p = clf.predict_log_proba(X[valid])
    expected = np.mean(np_kd_per_sample(log_p, q[valid], y[valid], T, alpha))
    np.testing.assert_allclose(valid_loss[best], expected, rtol=1e-5)
    assert not np.isclose(valid_loss[-1], expected, rtol=1e-5)


@pytest.mark.parametrize("loss", ["kd", "dkd", "label_smoothing"])
def test_loss_family_through_estimator(data, loss):
    X, y = data
    clf = DistilledClassifier(LogisticRegression(), loss=loss, temperature=3.0, **FAST)
    clf.fit(X, y)
    assert clf.score(X, y) > 0.6


def test_sample_weight_weights_the_students_loss():
    # The teacher is fixed (precomputed probabilities), so the weights can
    # act only on the student's loss. One full batch: the first epoch's
    # train_loss is the loss of the initial network.
    rng = np.random.default_rng(0)
    n, T, alpha = 60, 2.0, 0.5
    X = rng.normal(size=(n, 4))
    y = np.arange(n) % 3
    q = rng.dirichlet(np.ones(3), size=n)
    w = rng.uniform(0.0, 3.0, size=n)
    module = nn.Linear(4, 3)
    clf = DistilledClassifier(
        None,
        module=module,
        temperature=T,
        alpha=alpha,
        max_epochs=1,
        batch_size=n,
        n_iter_no_change=None,
        random_state=0,
    ).fit(X, y, teacher_proba=q, sample_weight=w)
    with torch.no_grad():
        z = module(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    per_sample = np_kd_per_sample(z, q, y, T, alpha)
    train_loss = clf.history_[0, "train_loss"]
    np.testing.assert_allclose(train_loss, np.mean(w * per_sample), rtol=1e-5)
    assert not np.isclose(train_loss, np.mean(per_sample), rtol=1e-3)


def test_zero_weights_on_a_class_change_the_students_predictions(data):
    X, y = data
    q = LogisticRegression().fit(X, y).predict_proba(X)
    params = dict(teacher=None, alpha=0.5, temperature=2.0, **FAST)
    plain = DistilledClassifier(**params).fit(X, y, teacher_proba=q)
    w = (y != 2).astype(float)
    weighted = DistilledClassifier(**params).fit(
        X, y, teacher_proba=q, sample_weight=w
    )
    # Rows of class 2 no longer count: the student predicts it far less.
    n_plain = np.sum(plain.predict(X) == 2)
    n_weighted = np.sum(weighted.predict(X) == 2)
    assert n_weighted < n_plain / 2, (n_plain, n_weighted)


def test_sample_weight_changes_the_student(data):
    X, y = data
    w = np.where(y == 0, 5.0, 1.0)
    a = DistilledClassifier(LogisticRegression(), **FAST).fit(X, y)
    b = DistilledClassifier(LogisticRegression(), **FAST).fit(X, y, sample_weight=w)
    assert b.predict_proba(X)[:, 0].mean() > a.predict_proba(X)[:, 0].mean()


def test_memory_caches_teacher(tmp_path, data):
    X, y = data
    est = DistilledClassifier(
        CountingTeacher(key="memory"), memory=str(tmp_path), **FAST
    )
    clone(est).fit(X, y)
    clone(est).set_params(temperature=3.0, alpha=0.2).fit(X, y)
    assert CALLS["memory"] == [len(X)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu_closely(data):
    X, y = data
    cpu = DistilledClassifier(LogisticRegression(), **FAST).fit(X, y)
    gpu = clone(cpu).set_params(device="cuda").fit(X, y)
    assert gpu.student_.device == "cuda"
    assert np.mean(cpu.predict(X) == gpu.predict(X)) > 0.9


def test_real_dataset_smoke():
    X, y = load_iris(return_X_y=True)
    clf = DistilledClassifier(
        RandomForestClassifier(20, random_state=0),
        teacher_cv=3,
        temperature=2.0,
        **FAST,
    ).fit(X, y)
    assert clf.score(X, y) > 0.8


def test_teacher_top_k_equals_dense_with_the_same_targets():
    """Top-k targets give the student that dense top-k probabilities give."""
    X, y = make_classification(
        n_samples=200, n_features=10, n_informative=8, n_classes=6, random_state=0
    )
    proba = LogisticRegression().fit(X, y).predict_proba(X)
    k = 2
    top = np.argsort(-proba, axis=1)[:, :k]
    compressed = np.zeros_like(proba)
    kept = np.take_along_axis(proba, top, axis=1)
    compressed[:] = ((1 - kept.sum(axis=1)) / (6 - k))[:, None]
    np.put_along_axis(compressed, top, kept, axis=1)
    a = DistilledClassifier(teacher_top_k=k, **FAST).fit(X, y, teacher_proba=proba)
    b = DistilledClassifier(**FAST).fit(X, y, teacher_proba=compressed)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)
    c = DistilledClassifier(teacher_top_k=6, **FAST).fit(X, y, teacher_proba=proba)
    d = DistilledClassifier(**FAST).fit(X, y, teacher_proba=proba)
    np.testing.assert_array_equal(c.predict_proba(X), d.predict_proba(X))


def test_html_repr_links_to_the_api_reference():
    from sklearn_kd import TemperatureScaledTeacher

    link = DistilledClassifier()._get_doc_link()
    assert link.endswith("/generated/sklearn_kd.DistilledClassifier.html")
    teacher = TemperatureScaledTeacher(LogisticRegression())
    assert teacher._get_doc_link().endswith(
        "/generated/sklearn_kd.teachers.TemperatureScaledTeacher.html"
    )
    assert "sklearn_kd.DistilledClassifier.html" in DistilledClassifier()._repr_html_()


def test_memory_runs_the_teacher_once_per_fold_in_a_grid_search(tmp_path, data):
    """3 folds x 6 (temperature, alpha) candidates: 3 teacher runs, not 18."""
    X, y = data
    est = DistilledClassifier(CountingTeacher(key="grid"), memory=str(tmp_path), **FAST)
    grid = {"temperature": [0.5, 1.0, 4.0], "alpha": [0.3, 0.9]}
    GridSearchCV(est, grid, cv=3, refit=False).fit(X, y)
    assert len(CALLS["grid"]) == 3
    assert CALLS["grid"] == [160, 160, 160]  # each fold's training rows


class TeacherThatMustNotBeFitted(LogisticRegression):
    """Fitting this teacher fails the test: a bad setting must stop fit first."""

    def fit(self, X, y, **fit_params):
        raise AssertionError("the teacher was fitted before a bad parameter")


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"hidden_layer_sizes": (-3,)}, ValueError, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (8, 0)}, ValueError, "hidden_layer_sizes"),
        ({"module": dict}, TypeError, "module must be a subclass"),
        ({"optimizer": dict}, TypeError, "optimizer must be a subclass"),
        ({"device": "no-such-device"}, ValueError, "device must name"),
        (
            {"early_stopping": True, "validation_fraction": 0.001},
            ValueError,
            "early_stopping=True",
        ),
        ({"teacher_cv": 500}, ValueError, "teacher_cv=500 makes 500 folds"),
        ({"activation": "softsign"}, ValueError, "'activation' parameter"),
    ],
)
def test_bad_settings_are_rejected_before_the_teacher_is_fitted(
    data, params, error, match
):
    X, y = data
    clf = DistilledClassifier(TeacherThatMustNotBeFitted(), **{**FAST, **params})
    with pytest.raises(error, match=match):
        clf.fit(X, y)


def test_explicit_folds_must_partition_the_labelled_rows(data):
    """Folds given as (train, test) pairs are checked before any fitting."""
    from sklearn.model_selection import KFold

    X, y = data
    folds = list(KFold(3).split(X))
    for bad in (folds[:2], [*folds, folds[0]]):  # a row missing, a row twice
        clf = DistilledClassifier(
            TeacherThatMustNotBeFitted(), teacher_cv=bad, **FAST
        )
        with pytest.raises(ValueError, match="exactly one test fold"):
            clf.fit(X, y)
    clf = DistilledClassifier(LogisticRegression(), teacher_cv=folds, **FAST)
    assert clf.fit(X, y).teacher_stats_ is not None


def test_teacher_is_fitted_once_settings_are_valid(data):
    """The guard above can fail: with valid settings the teacher is fitted."""
    X, y = data
    clf = DistilledClassifier(TeacherThatMustNotBeFitted(), **FAST)
    with pytest.raises(AssertionError, match="the teacher was fitted"):
        clf.fit(X, y)


def test_overconfident_warning_points_at_the_callers_line(data):
    from sklearn.tree import DecisionTreeClassifier

    from sklearn_kd import OverconfidentTeacherWarning

    X, y = data
    clf = DistilledClassifier(DecisionTreeClassifier(random_state=0), **FAST)
    for estimator in (clf, make_pipeline(StandardScaler(), clf)):
        with pytest.warns(OverconfidentTeacherWarning) as record:
            estimator.fit(X, y)
        warned = [w for w in record if w.category is OverconfidentTeacherWarning]
        assert [w.filename for w in warned] == [__file__]


# ------------------------------------------------------------------------
# knowledge levels, the loss family and teacher diagnostics
# ------------------------------------------------------------------------
#: Settings for the four-class knowledge problem.
FAST_4 = dict(max_epochs=8, hidden_layer_sizes=(16,), lr=1e-2, random_state=0,
              architecture="mlp")


@pytest.fixture(scope="module")
def problem():
    X, y = make_classification(
        n_samples=180, n_features=6, n_informative=4, n_classes=4, random_state=0
    )
    proba = LogisticRegression(C=0.1).fit(X, y).predict_proba(X)
    return X, y, proba


@pytest.mark.parametrize("level", ["full", "universe", "domain", "instance"])
def test_each_level_trains_and_stores_its_constants(problem, level):
    X, y, proba = problem
    clf = DistilledClassifier(knowledge=level, temperature=2.0, **FAST_4)
    clf.fit(X, y, teacher_proba=proba)
    assert np.all(np.isfinite(clf.predict_proba(X)))
    if level == "full":
        assert clf.knowledge_params_ is None
    else:
        q_T = soften(proba, 2.0).numpy()
        expected = fit_knowledge(q_T, y, 4)
        assert clf.knowledge_params_.confidence == pytest.approx(expected.confidence)
        np.testing.assert_allclose(
            clf.knowledge_params_.class_shapes, expected.class_shapes
        )


@pytest.mark.parametrize("level", ["universe", "domain", "instance"])
def test_level_equals_precomputed_level_teacher(problem, level):
    """knowledge=level is the full student of the level's teacher (T = 1)."""
    X, y, proba = problem
    a = DistilledClassifier(knowledge=level, **FAST_4).fit(X, y, teacher_proba=proba)
    level_teacher = apply_knowledge(proba, y, level, fit_knowledge(proba, y, 4))
    b = DistilledClassifier(**FAST_4).fit(X, y, teacher_proba=level_teacher)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)


def test_universe_at_t1_is_label_smoothing(problem):
    """E3 through the estimator: same gradients, hence the same student."""
    X, y, proba = problem
    alpha, n_classes = 0.6, 4
    q_bar = proba[np.arange(len(y)), y].mean()
    epsilon = alpha * n_classes * (1 - q_bar) / (n_classes - 1)
    kd = DistilledClassifier(knowledge="universe", alpha=alpha, **FAST_4)
    kd.fit(X, y, teacher_proba=proba)
    ls = DistilledClassifier(loss="label_smoothing", alpha=epsilon, **FAST_4).fit(X, y)
    np.testing.assert_allclose(kd.predict_proba(X), ls.predict_proba(X), atol=1e-4)


def test_grid_search_over_knowledge_and_loss(problem):
    X, y, proba = problem
    grid = {"knowledge": ["universe", "domain", "instance", "full"], "loss": ["kd"]}
    search = GridSearchCV(DistilledClassifier(**FAST_4), grid, cv=3)
    search.fit(X, y, teacher_proba=proba)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["knowledge"] in grid["knowledge"]


def test_dkd_with_kd_weights_tracks_kd(problem):
    """DKD with weights (1, 1) differs from KD only by the per-row 1 - q_T,c."""
    X, y, proba = problem
    kd = DistilledClassifier(loss="kd", **FAST_4).fit(X, y, teacher_proba=proba)
    tckd = DistilledClassifier(loss="dkd", nckd_weight=0.0, **FAST_4)
    tckd.fit(X, y, teacher_proba=proba)
    assert not np.allclose(kd.predict_proba(X), tckd.predict_proba(X))


def test_teacher_stats_and_overconfidence_warning(problem):
    X, y, proba = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverconfidentTeacherWarning)
        clf = DistilledClassifier(**FAST_4).fit(X, y, teacher_proba=proba)
    stats = clf.teacher_stats_
    q_c = proba[np.arange(len(y)), y]
    assert stats.mean_confidence == pytest.approx(q_c.mean())
    assert stats.mean_non_target_mass == pytest.approx(1 - q_c.mean())

    one_hot = np.eye(4)[y] * (1 - 1e-6) + 1e-6 / 4
    with pytest.warns(OverconfidentTeacherWarning, match="teacher_cv"):
        DistilledClassifier(**FAST_4).fit(X, y, teacher_proba=one_hot)
    # a high temperature restores non-target mass and silences the warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverconfidentTeacherWarning)
        DistilledClassifier(temperature=10.0, **FAST_4).fit(
            X, y, teacher_proba=one_hot
        )


@pytest.mark.parametrize("knowledge", ["full", "domain"])
def test_fit_softens_each_teacher_row_once(monkeypatch, problem, knowledge):
    """The statistics and the targets come from one softening of the
    teacher, and the targets are the teacher's at temperature T."""
    X, y, proba = problem
    softened_rows = []

    def counting_soften(rows, temperature, **kwargs):
        softened_rows.append(len(rows))
        return soften(rows, temperature, **kwargs)

    monkeypatch.setattr(teacher_targets, "soften", counting_soften)
    captured = {}

    def capturing_target_inputs(targets):
        captured["targets"] = targets
        return batch.target_inputs(targets)

    monkeypatch.setattr(distilled, "target_inputs", capturing_target_inputs)
    clf = DistilledClassifier(temperature=2.0, knowledge=knowledge, **FAST_4)
    clf.fit(X, y, teacher_proba=proba)
    assert sum(softened_rows) == len(X)

    q_T = soften(proba, 2.0).numpy()
    expected = q_T
    if knowledge != "full":
        expected = apply_knowledge(q_T, y, knowledge, fit_knowledge(q_T, y, 4))
    np.testing.assert_array_equal(
        captured["targets"].q_T, expected.astype(np.float32)
    )
    q_c = q_T[np.arange(len(y)), y]
    assert clf.teacher_stats_.mean_confidence == pytest.approx(q_c.mean(), rel=1e-12)
