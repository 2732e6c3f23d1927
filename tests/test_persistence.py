"""Reproducibility, pickling, device portability and safe persistence."""

import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from skorch.exceptions import DeviceWarning
from torch import nn

from sklearn_kd import DistilledClassifier
from sklearn_kd._student import ARCHITECTURES
from sklearn_kd.persistence import META_NAME, WEIGHTS_NAME, load, save

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")


@pytest.fixture(scope="module")
def fitted(tiny, data):
    X, y = data
    return DistilledClassifier(LogisticRegression(), temperature=2.0, **tiny).fit(X, y)


# -------------------------------------------------------- reproducibility
def test_same_random_state_is_bitwise_identical(tiny, data):
    X, y = data
    est = DistilledClassifier(
        LogisticRegression(), early_stopping=True, knowledge="domain", **tiny
    )
    a = clone(est).fit(X, y).predict_proba(X)
    b = clone(est).fit(X, y).predict_proba(X)
    assert a.tobytes() == b.tobytes()


SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn_kd import DistilledClassifier

    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    clf = DistilledClassifier(
        LogisticRegression(), temperature=2.0, early_stopping=True, max_epochs=5,
        hidden_layer_sizes=(8,), lr=1e-2, random_state=42,
    ).fit(X, y)
    np.save(sys.argv[1], clf.predict_proba(X))
    """
)


def test_same_random_state_is_bitwise_identical_across_processes(tmp_path):
    """Two fresh interpreters (different hash seeds) agree bit for bit."""
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT)
    runs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = tmp_path / f"proba_{seed}.npy"
        proc = subprocess.Popen(
            [sys.executable, str(script), str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        runs.append((proc, out))
    for proc, _ in runs:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output.decode()
    first, second = (np.load(out) for _, out in runs)
    assert first.shape == (150, 3)
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize(
    "device, expected",
    [("cpu", False), ("cuda", True), ("cuda:1", True), (torch.device("cuda"), True)],
)
def test_non_deterministic_tag_follows_the_device(device, expected):
    tags = DistilledClassifier(device=device).__sklearn_tags__()
    assert tags.non_deterministic is expected
    assert "non_deterministic" in DistilledClassifier.__doc__


# ---------------------------------------------------------------- pickle
@pytest.mark.parametrize("via", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips(fitted, data, tmp_path, via):
    X, _ = data
    if via == "pickle":
        restored = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, tmp_path / "clf.joblib")
        restored = joblib.load(tmp_path / "clf.joblib")
    assert restored.predict_proba(X).tobytes() == fitted.predict_proba(X).tobytes()
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert len(restored.history_) == len(fitted.history_)


def test_pickle_made_for_cuda_loads_on_cpu(fitted, data, monkeypatch):
    """Simulates a GPU-trained pickle on a CPU machine.

    skorch pickles the student with its ``device``; on unpickling it maps the
    tensors with ``torch.load(map_location=...)`` and, when CUDA is missing,
    falls back to the CPU with a DeviceWarning. The estimator predicts on
    the CPU whatever its student's device, so nothing more is needed.
    """
    X, _ = data
    gpu_like = pickle.loads(pickle.dumps(fitted))
    gpu_like.device = "cuda"
    gpu_like.student_.device = "cuda"
    blob = pickle.dumps(gpu_like)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning) as record:
        restored = pickle.loads(blob)
    assert any("no CUDA devices are available" in str(w.message) for w in record)
    assert torch.device(restored.student_.device).type == "cpu"
    assert restored.predict_proba(X).tobytes() == fitted.predict_proba(X).tobytes()
    # refitting asks for the missing GPU and says so
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        restored.fit(X, fitted.predict(X))


@needs_gpu
def test_gpu_trained_pickle_loads_on_cpu(tiny, data, monkeypatch):
    X, y = data
    gpu = DistilledClassifier(LogisticRegression(), device="cuda", **tiny).fit(X, y)
    blob = pickle.dumps(gpu)
    expected = gpu.predict_proba(X)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning):
        restored = pickle.loads(blob)
    assert next(restored.student_.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, atol=1e-5)


@needs_gpu
def test_gpu_trained_model_saved_loads_on_cpu(tiny, data, tmp_path):
    X, y = data
    gpu = DistilledClassifier(LogisticRegression(), device="cuda", **tiny).fit(X, y)
    restored = load(save(gpu, tmp_path / "gpu.skd"))
    assert next(restored.student_.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(
        restored.predict_proba(X), gpu.predict_proba(X), atol=1e-5
    )


# ----------------------------------------------------------- persistence
def _plain_params(est):
    return {
        k: v
        for k, v in est.get_params(deep=False).items()
        if k not in ("teacher", "module", "callbacks", "optimizer", "memory")
    }


@pytest.mark.parametrize(
    "labels, options",
    [
        ("int", {}),
        ("str", {"knowledge": "domain", "loss": "dkd", "temperature": 3.0}),
        ("bool", {"early_stopping": True}),
        ("object", {"teacher_cv": 3, "activation": "tanh"}),
    ],
)
def test_save_load_predicts_bitwise_identically(tiny, data, tmp_path, labels, options):
    X, y = data
    if labels == "str":
        y = np.array(["ant", "bee", "cat"])[y]
    elif labels == "bool":
        y = y == 0
    elif labels == "object":
        y = np.array(["x", 3, 2.5], dtype=object)[y]
        y = np.array([str(v) for v in y], dtype=object)
    clf = DistilledClassifier(LogisticRegression(), **options, **tiny).fit(X, y)
    restored = load(save(clf, tmp_path / "clf.skd"))

    assert restored.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    assert restored.predict(X).dtype == clf.predict(X).dtype
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert restored.score(X, y) == clf.score(X, y)
    assert restored.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(restored.classes_, clf.classes_)
    assert restored.n_features_in_ == clf.n_features_in_
    assert restored.n_iter_ == clf.n_iter_
    np.testing.assert_array_equal(
        restored.history_[:, "train_loss"], clf.history_[:, "train_loss"]
    )
    assert _plain_params(restored) == _plain_params(clf)
    assert restored.teacher is None and restored.teacher_ is None
    assert restored.teacher_stats_.keys() == clf.teacher_stats_.keys()
    np.testing.assert_array_equal(
        restored.teacher_stats_.confidence_quantiles,
        clf.teacher_stats_.confidence_quantiles,
    )
    if clf.knowledge_params_ is not None:
        np.testing.assert_array_equal(
            restored.knowledge_params_.class_shapes, clf.knowledge_params_.class_shapes
        )


def test_save_load_keeps_feature_names(tiny, data, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = DistilledClassifier(alpha=0.0, **tiny).fit(df, y)
    restored = load(save(clf, tmp_path / "clf.skd"))
    np.testing.assert_array_equal(restored.feature_names_in_, clf.feature_names_in_)
    assert restored.predict_proba(df).tobytes() == clf.predict_proba(df).tobytes()
    with pytest.raises(ValueError, match="feature names should match"):
        restored.predict(df.rename(columns={"f0": "zz"}))


def test_saved_file_is_json_and_tensors(fitted, tmp_path):
    path = save(fitted, tmp_path / "clf.skd")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted([META_NAME, WEIGHTS_NAME])
        meta = json.loads(archive.read(META_NAME))
    assert meta["student"] == {
        "class": "sklearn_kd.MLPStudent",
        "architecture": "mlp",
        "hidden_layer_sizes": [8],
        "activation": "relu",
    }
    assert "teacher" in meta["params_not_saved"]
    assert meta["params"]["hidden_layer_sizes"] == {"tuple": [8]}


@pytest.mark.parametrize(
    "class_weight, saved",
    [("balanced", True), ({"a": 2.0}, True), ({0: 2.0}, False), ({True: 2.0}, False)],
)
def test_dict_params_are_saved_only_when_json_keeps_their_keys(
    tiny, data, tmp_path, class_weight, saved
):
    X, y = data
    keys = list(class_weight) if isinstance(class_weight, dict) else []
    labels = np.array(["a", "b", "c"])[y] if "a" in keys else y
    if True in keys:
        X, labels = X[y < 2], y[y < 2] == 1
    clf = DistilledClassifier(alpha=0.0, class_weight=class_weight, **tiny)
    clf.fit(X, labels)
    path = save(clf, tmp_path / "clf.skd")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(META_NAME))
    restored = load(path)
    assert restored.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    if saved:
        assert restored.class_weight == class_weight
    else:  # JSON would turn the keys into strings: not saved, and says so
        assert "class_weight" in meta["params_not_saved"]
        assert restored.class_weight is None


def test_load_restores_every_fitted_attribute(fitted, tmp_path):
    """The list the estimator owns is the list the file restores."""
    from sklearn_kd._fitted import FITTED_ATTRIBUTES

    restored = load(save(fitted, tmp_path / "clf.skd"))
    present = {name for name in FITTED_ATTRIBUTES if hasattr(fitted, name)}
    assert present == {name for name in FITTED_ATTRIBUTES if hasattr(restored, name)}
    assert present == set(FITTED_ATTRIBUTES) - {"feature_names_in_"}
    fitted_attributes = {name for name in vars(fitted) if name.endswith("_")}
    assert fitted_attributes == present
    assert restored.n_iter_ == fitted.n_iter_
    assert restored.teacher_ is None


def test_saved_cuda_estimator_loads_on_cpu(fitted, data, tmp_path):
    """The weights are always mapped to the CPU; ``device`` stays a param."""
    X, _ = data
    gpu_like = pickle.loads(pickle.dumps(fitted))
    gpu_like.device = "cuda"
    restored = load(save(gpu_like, tmp_path / "clf.skd"))
    assert restored.device == "cuda"
    assert torch.device(restored.student_.device).type == "cpu"
    assert restored.predict_proba(X).tobytes() == fitted.predict_proba(X).tobytes()


class TinyNet(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.linear(X)


class OtherNet(TinyNet):
    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.extra = nn.Linear(2, 2)


def test_custom_module_must_be_passed_explicitly(tiny, data, tmp_path):
    X, y = data
    clf = DistilledClassifier(LogisticRegression(), module=TinyNet, **tiny).fit(X, y)
    path = save(clf, tmp_path / "custom.skd")
    with pytest.raises(ValueError, match=r"custom student module '.*TinyNet'.*pass"):
        load(path)
    restored = load(path, module=TinyNet)
    assert restored.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    assert restored.module is TinyNet
    assert isinstance(restored.student_.module_, TinyNet)
    from_instance = load(path, module=TinyNet(6, 3))
    np.testing.assert_array_equal(from_instance.predict(X), clf.predict(X))
    with pytest.raises(ValueError, match="do not fit the student module OtherNet"):
        load(path, module=OtherNet)
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        load(path, module="TinyNet")


def test_default_student_refuses_a_module(fitted, tmp_path):
    path = save(fitted, tmp_path / "clf.skd")
    with pytest.raises(ValueError, match="module must be None"):
        load(path, module=TinyNet)


def test_save_needs_a_fitted_distilled_classifier(tmp_path):
    with pytest.raises(NotFittedError):
        save(DistilledClassifier(), tmp_path / "x.skd")
    with pytest.raises(TypeError, match="estimator must be a DistilledClassifier"):
        save(LogisticRegression(), tmp_path / "x.skd")


# ------------------------------------------------------- tampered files
EXECUTED = []


def _payload():
    EXECUTED.append(True)
    return {}


class Exploit:
    """Unpickling this calls ``_payload``: what an attacker's file would do."""

    def __reduce__(self):
        return (_payload, ())


def _rewrite(path, out, replace=None, extra=None):
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, (replace or {}).get(name, src.read(name)))
        for name, payload in (extra or {}).items():
            dst.writestr(name, payload)
    return out


def test_pickle_file_is_refused(fitted, tmp_path):
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ValueError, match="is not a zip archive"):
        load(path)
    assert not EXECUTED


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_pickle_inside_weights_is_refused(fitted, tmp_path):
    path = save(fitted, tmp_path / "clf.skd")
    for payload in (pickle.dumps(Exploit()), _torch_saved(Exploit())):
        bad = _rewrite(path, tmp_path / "bad.skd", replace={WEIGHTS_NAME: payload})
        with pytest.raises(
            ValueError, match=r"torch.load\(weights_only=True\) refuses"
        ):
            load(bad)
    assert not EXECUTED


def _torch_saved(obj):
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_extra_member_is_refused(fitted, tmp_path):
    path = save(fitted, tmp_path / "clf.skd")
    bad = _rewrite(
        path, tmp_path / "bad.skd", extra={"payload.pkl": pickle.dumps(Exploit())}
    )
    with pytest.raises(ValueError, match=r"holds the members \[.*'payload.pkl'"):
        load(bad)
    assert not EXECUTED


def test_tampered_metadata_is_refused(fitted, tmp_path):
    path = save(fitted, tmp_path / "clf.skd")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(META_NAME))
    for key, value in [
        ("params", {"no_such_param": 1}),
        ("classes_", {"dtype": "|V8", "values": [1]}),
        ("student", {"class": "sklearn_kd.MLPStudent", "activation": "rm -rf"}),
        ("architecture_", "transformer"),
    ]:
        tampered = dict(meta, **{key: value})
        bad = _rewrite(
            path, tmp_path / "bad.skd", replace={META_NAME: json.dumps(tampered)}
        )
        with pytest.raises(ValueError, match="has invalid metadata"):
            load(bad)
    bad = _rewrite(
        path,
        tmp_path / "bad.skd",
        replace={META_NAME: json.dumps(dict(meta, format_version=99))},
    )
    with pytest.raises(ValueError, match="format_version 99"):
        load(bad)


def test_a_file_without_architecture_takes_it_from_its_student(fitted, tmp_path):
    # files written before the attribute existed
    path = save(fitted, tmp_path / "clf.skd")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(META_NAME))
    assert meta["architecture_"] == fitted.architecture_
    del meta["architecture_"]
    older = _rewrite(path, tmp_path / "old.skd", replace={META_NAME: json.dumps(meta)})
    assert load(older).architecture_ == meta["student"]["architecture"]


# ------------------------------------------------- built-in architectures
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_save_load_rebuilds_every_built_in_student(tiny, data, tmp_path, architecture):
    from sklearn.tree import DecisionTreeClassifier

    X, y = data
    # a tree teacher, so that "ple-teacher" places its bins on its thresholds
    clf = DistilledClassifier(
        DecisionTreeClassifier(max_depth=4, random_state=0),
        architecture=architecture,
        n_bins=4,
        **tiny,
    ).fit(X, y)
    restored = load(save(clf, tmp_path / "clf.skd"))

    assert type(restored.student_.module_) is type(clf.student_.module_)
    assert restored.architecture == architecture
    assert restored.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    # beyond the training range too: the encodings' open first and last bins
    far = 10 * X
    assert restored.predict_proba(far).tobytes() == clf.predict_proba(far).tobytes()
    if architecture.startswith("ple"):
        saved, loaded = clf.student_.module_.bins, restored.student_.module_.bins
        assert len(saved) == len(loaded) == X.shape[1]
        for a, b in zip(saved, loaded):
            np.testing.assert_array_equal(a, b)


def test_tampered_bins_are_refused(tiny, data, tmp_path):
    X, y = data
    clf = DistilledClassifier(alpha=0.0, architecture="ple", n_bins=4, **tiny)
    path = save(clf.fit(X, y), tmp_path / "clf.skd")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(META_NAME))
    for bins in [None, [[0.0, 1.0]], [[1.0, 0.0]] * 6, "import os"]:
        tampered = dict(meta, student=dict(meta["student"], bins=bins))
        bad = _rewrite(
            path, tmp_path / "bad.skd", replace={META_NAME: json.dumps(tampered)}
        )
        with pytest.raises(ValueError, match="has invalid metadata|do not fit"):
            load(bad)
    with pytest.raises(ValueError, match="module must be None"):
        load(path, module=TinyNet)


# ------------------------------------------------------------- file sizes
#: What a file or pickle may take beyond twice its raw weight bytes: the
#: metadata (parameters, classes, a 60-epoch history) and archive headers.
SIZE_ALLOWANCE = 8 * 1024


def _weight_bytes(clf):
    state = clf.student_.module_.state_dict()
    return sum(t.numel() * t.element_size() for t in state.values())


@pytest.fixture(scope="module")
def long_trained():
    """Students trained for 60 epochs of many batches: long histories."""
    pytest.importorskip("rtdl_num_embeddings")
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = make_classification(n_samples=1500, n_features=10, n_informative=6,
                               n_classes=3, random_state=0)
    teacher = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    common = dict(max_epochs=60, n_iter_no_change=None, batch_size=32,
                  hidden_layer_sizes=(64,), random_state=0)
    return X, {
        architecture: DistilledClassifier(
            teacher, architecture=architecture, **common
        ).fit(X, y)
        for architecture in ("mlp", "auto")
    }


@pytest.mark.parametrize("architecture", ["mlp", "auto"])
def test_saved_file_is_about_the_weights(long_trained, tmp_path, architecture):
    X, students = long_trained
    clf = students[architecture]
    weights = _weight_bytes(clf)
    path = save(clf, tmp_path / "clf.skd")
    assert os.path.getsize(path) <= 2 * weights + SIZE_ALLOWANCE
    restored = load(path)
    assert restored.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    # each epoch's entries are kept, skorch's per-batch records are not
    assert len(restored.history_) == len(clf.history_) == clf.n_iter_
    np.testing.assert_array_equal(restored.history_[:, "train_loss"],
                                  clf.history_[:, "train_loss"])
    assert "batches" in clf.history_[-1] and "batches" not in restored.history_[-1]
    full = load(save(clf, tmp_path / "full.skd", history="full"))
    assert full.history_[-1]["batches"] == clf.history_[-1]["batches"]
    assert os.path.getsize(tmp_path / "full.skd") > os.path.getsize(path)
    bare = load(save(clf, tmp_path / "bare.skd", history="none"))
    assert len(bare.history_) == 0 and bare.n_iter_ == clf.n_iter_
    # the loaded net holds the module only
    assert not hasattr(restored.student_, "optimizer_")
    assert restored.student_.module is restored.student_.module_


def test_files_of_the_earlier_layout_load(fitted, data, tmp_path):
    """Earlier files: indented JSON with skorch's per-batch history."""
    X, _ = data
    path = save(fitted, tmp_path / "new.skd", history="full")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(META_NAME))
        weights = archive.read(WEIGHTS_NAME)
    old = tmp_path / "old.skd"
    with zipfile.ZipFile(old, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(META_NAME, json.dumps(meta, indent=1))
        archive.writestr(WEIGHTS_NAME, weights)
    restored = load(old)
    assert restored.predict_proba(X).tobytes() == fitted.predict_proba(X).tobytes()
    assert restored.history_[-1]["batches"] == fitted.history_[-1]["batches"]


def test_save_refuses_an_unknown_history(fitted, tmp_path):
    with pytest.raises(ValueError, match=r"history must be one of .*got 'batches'"):
        save(fitted, tmp_path / "clf.skd", history="batches")


@pytest.mark.parametrize("architecture", ["mlp", "auto"])
def test_without_teacher_pickle_holds_no_training_state(long_trained, architecture):
    from sklearn_kd.persistence import without_teacher

    X, students = long_trained
    clf = students[architecture]
    small = without_teacher(clf)
    for name in ("optimizer_", "criterion_", "callbacks_"):
        assert not hasattr(small.student_, name)
    assert len(small.history_) == 0 and small.n_iter_ == clf.n_iter_
    blob = pickle.dumps(small)
    assert b"exp_avg" not in blob  # no Adam moments
    assert len(blob) <= 2 * _weight_bytes(clf) + SIZE_ALLOWANCE
    restored = pickle.loads(blob)
    assert restored.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    assert small.get_params(deep=False).keys() == clf.get_params(deep=False).keys()
    # the training state is opt-in; the estimator itself is untouched
    kept = without_teacher(clf, training_state=True)
    assert kept.teacher_ is None and hasattr(kept.student_, "optimizer_")
    assert len(kept.history_) == len(clf.history_)
    assert clf.teacher_ is not None and hasattr(clf.student_, "optimizer_")


def test_pickled_student_stores_its_weights_once(fitted, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.student_.module is restored.student_.module_
    weight = fitted.student_.module_.layers[0].weight.detach().numpy().tobytes()
    # the net's module parameter is its module_: one copy in the pickle
    assert pickle.dumps(fitted).count(weight) == 1
    assert restored.predict_proba(X).tobytes() == fitted.predict_proba(X).tobytes()


# ------------------------------------------------------------ regressor
def _regression(n_outputs, n_samples=200):
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=n_samples, n_features=5, n_targets=n_outputs,
                           noise=1.0, random_state=0)
    return X, y + 10.0


@pytest.fixture(scope="module")
def regressors():
    from sklearn.linear_model import Ridge

    from sklearn_kd import DistilledRegressor

    fitted = {}
    for n_outputs in (1, 2):
        X, y = _regression(n_outputs)
        fitted[n_outputs] = X, DistilledRegressor(
            Ridge(), max_epochs=3, hidden_layer_sizes=(8,), random_state=0
        ).fit(X, y)
    return fitted


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_save_load_predicts_bitwise_identically(
    regressors, tmp_path, n_outputs
):
    from sklearn_kd import DistilledRegressor

    X, reg = regressors[n_outputs]
    path = save(reg, tmp_path / "reg.skd")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(META_NAME))
    assert meta["format"] == "sklearn_kd.DistilledRegressor"
    restored = load(path)
    assert type(restored) is DistilledRegressor and restored.teacher_ is None
    assert restored.predict(X).shape == reg.predict(X).shape
    assert restored.predict(X).tobytes() == reg.predict(X).tobytes()
    assert restored.n_outputs_ == reg.n_outputs_ == n_outputs
    for name in ("target_mean_", "target_scale_"):
        value = getattr(restored, name)
        assert isinstance(value, np.ndarray) and value.shape == (n_outputs,)
        assert value.tobytes() == getattr(reg, name).tobytes()
    assert restored.get_params()["loss"] == reg.loss
    assert restored.student_.module_.training is False
    assert not hasattr(restored, "classes_")
    # the student's net is a regression net, ready to refit
    assert restored.score(X, reg.predict(X)) == pytest.approx(1.0)


def test_regressor_load_restores_every_fitted_attribute(regressors, tmp_path):
    from sklearn_kd._fitted import REGRESSOR_ATTRIBUTES

    X, reg = regressors[2]
    restored = load(save(reg, tmp_path / "reg.skd"))
    for name in REGRESSOR_ATTRIBUTES:
        if name in ("teacher_", "student_", "history_"):
            continue
        assert hasattr(restored, name) == hasattr(reg, name), name
        if hasattr(reg, name):
            np.testing.assert_equal(getattr(restored, name), getattr(reg, name))
    assert len(restored.history_) == len(reg.history_)


def test_regressor_custom_module_must_be_passed(tmp_path):
    from sklearn_kd import DistilledRegressor

    X, y = _regression(2, n_samples=60)
    reg = DistilledRegressor(module=TinyNet, alpha=0.0, max_epochs=2,
                             random_state=0).fit(X, y)
    path = save(reg, tmp_path / "reg.skd")
    with pytest.raises(ValueError, match="pass module="):
        load(path)
    restored = load(path, module=TinyNet)  # built as TinyNet(5, n_outputs_)
    assert restored.predict(X).tobytes() == reg.predict(X).tobytes()


def test_tampered_regressor_metadata_is_refused(regressors, tmp_path):
    X, reg = regressors[2]
    path = save(reg, tmp_path / "reg.skd")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(META_NAME))
    for key, value in [
        ("n_outputs_", 0),
        ("n_outputs_", 3),  # the statistics hold 2 values
        ("target_mean_", {"dtype": "<f8", "values": [1.0]}),
        ("target_scale_", {"dtype": "<f8", "values": [1.0, -1.0]}),
        ("target_scale_", {"dtype": "<U1", "values": ["a", "b"]}),
        ("format", "sklearn_kd.NoSuchEstimator"),
    ]:
        tampered = dict(meta, **{key: value})
        bad = _rewrite(
            path, tmp_path / "bad.skd", replace={META_NAME: json.dumps(tampered)}
        )
        with pytest.raises(ValueError, match="invalid metadata|format tags"):
            load(bad)


def test_regressor_without_teacher(regressors):
    from sklearn_kd.persistence import without_teacher

    X, reg = regressors[2]
    small = without_teacher(reg)
    assert small.teacher is None and small.teacher_ is None
    assert reg.teacher_ is not None and hasattr(reg.student_, "optimizer_")
    for name in ("optimizer_", "criterion_", "callbacks_"):
        assert not hasattr(small.student_, name)
    assert len(small.history_) == 0 and small.n_iter_ == reg.n_iter_
    blob = pickle.dumps(small)
    assert b"exp_avg" not in blob  # no Adam moments
    restored = pickle.loads(blob)
    assert restored.predict(X).tobytes() == reg.predict(X).tobytes()
    kept = without_teacher(reg, training_state=True)
    assert kept.teacher_ is None and hasattr(kept.student_, "optimizer_")
    assert len(kept.history_) == len(reg.history_)


def test_saved_regressor_is_about_the_weights(tmp_path):
    """A default regressor (100 hidden units, up to 100 epochs) on 2,000 rows:
    the file holds its weights and a few kilobytes of metadata."""
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge

    from sklearn_kd import DistilledRegressor

    X, y = make_regression(n_samples=2000, n_features=10, noise=5.0,
                           random_state=0)
    reg = DistilledRegressor(Ridge(), random_state=0).fit(X, y)
    weights = _weight_bytes(reg)
    path = save(reg, tmp_path / "reg.skd")
    assert os.path.getsize(path) <= 4 * weights + SIZE_ALLOWANCE
    assert load(path).predict(X).tobytes() == reg.predict(X).tobytes()
