"""ONNX export through skl2onnx (the optional ``onnx`` extra)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kd import DistilledClassifier

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
kd_onnx = pytest.importorskip("sklearn_kd.onnx")

TINY = dict(alpha=0.0, max_epochs=2, hidden_layer_sizes=(8,), random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=0)
    return X, y


def _run(onx, X):
    sess = ort.InferenceSession(onx.SerializeToString(),
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: X})


@pytest.mark.parametrize("architecture", ["mlp", "resnet", "ple"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pipeline_matches_predict_proba(data, architecture, dtype):
    if architecture != "mlp":
        pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    X = X.astype(dtype)
    clf = DistilledClassifier(architecture=architecture, n_bins=4, **TINY)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={id(clf): {"zipmap": False}})
    label, proba = _run(onx, X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(label, pipe.predict(X))


def test_default_zipmap_and_string_labels(data):
    X, y = data
    X = X.astype(np.float32)
    labels = np.array(["a", "b", "c"])[y]
    clf = DistilledClassifier(**TINY).fit(X, labels)
    onx = skl2onnx.to_onnx(clf, X[:1])
    label, proba = _run(onx, X)
    np.testing.assert_array_equal(label, clf.predict(X))
    expected = clf.predict_proba(X)
    got = np.array([[row[c] for c in clf.classes_] for row in proba])
    np.testing.assert_allclose(got, expected, atol=1e-5)


class Custom(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        return torch.nn.functional.gelu(self.linear(X)) * 2.0


def test_custom_module_exports(data):
    X, y = data
    X = X.astype(np.float32)
    clf = DistilledClassifier(module=Custom, alpha=0.0, max_epochs=2,
                              random_state=0).fit(X, y)
    onx = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    _, proba = _run(onx, X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_unexportable_module_is_rejected(data):
    X, y = data
    X = X.astype(np.float32)

    class Broken(torch.nn.Module):
        def __init__(self, n_features, n_classes):
            super().__init__()
            self.linear = torch.nn.Linear(n_features, n_classes)

        def forward(self, X):
            z = self.linear(X)
            if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
                raise RuntimeError("this operation has no ONNX equivalent")
            return z

    clf = DistilledClassifier(module=Broken, alpha=0.0, max_epochs=1,
                              random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="Broken cannot be exported to ONNX"):
        skl2onnx.to_onnx(clf, X[:1])


def test_piecewise_with_uneven_bins_exports(data):
    pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    X = X.astype(np.float32)
    X[:, 1] = (X[:, 1] > 0).astype(np.float32)  # a binary feature: one bin
    clf = DistilledClassifier(architecture="ple", n_bins=5, **TINY).fit(X, y)
    onx = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    _, proba = _run(onx, X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("hidden", [(8,), ()])
def test_threshold_students_of_a_forest_export(data, hidden):
    # the piecewise-linear students on the forest's thresholds that
    # architecture="auto" chooses from (with and without a hidden layer),
    # inside a pipeline
    pytest.importorskip("rtdl_num_embeddings")
    from sklearn.ensemble import RandomForestClassifier

    from sklearn_kd import TabularStudent

    X, y = data
    X = X.astype(np.float32)
    clf = DistilledClassifier(RandomForestClassifier(5, random_state=0),
                              architecture="ple-teacher", max_epochs=2,
                              hidden_layer_sizes=hidden, n_bins=4,
                              random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    assert isinstance(clf.student_.module_, TabularStudent)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={id(clf): {"zipmap": False}})
    far = np.vstack([X, 10 * X])  # beyond the outer bins too
    label, proba = _run(onx, far)
    np.testing.assert_allclose(proba, pipe.predict_proba(far), atol=1e-5)
    np.testing.assert_array_equal(label, pipe.predict(far))


@pytest.mark.parametrize(
    "architecture, offset, ops",
    [
        # the standardisation folded into the first Gemm
        ("mlp", 0.0, ["Gemm", "Relu", "Gemm"]),
        # statistics too far from zero for float32 folding: standardised first
        ("mlp", 1e4, ["Sub", "Div", "Gemm", "Relu", "Gemm"]),
        # the piecewise-linear encoding as one Gemm, a Relu and a Min
        ("ple", 0.0, ["Gemm", "Relu", "Min", "Gemm", "Relu", "Gemm"]),
    ],
)
def test_student_graph_is_the_smallest(data, architecture, offset, ops):
    if architecture != "mlp":
        pytest.importorskip("rtdl_num_embeddings")
    X, y = data
    X = (X + offset).astype(np.float32)
    clf = DistilledClassifier(architecture=architecture, n_bins=4, **TINY).fit(X, y)
    if getattr(clf.student_.module_, "handles_missing", False):
        ops = ["IsNaN", "Where", *ops]  # missing values filled first
    graph = kd_onnx.export_student(clf).graph
    # the exporter names the fill (the means) once more with an Identity,
    # which onnxruntime removes when it loads the graph
    assert [n.op_type for n in graph.node if n.op_type != "Identity"] == ops
    onx = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    # the labels are the class indices: ArgMax gives them without a Gather
    graph_ops = [n.op_type for n in onx.graph.node if n.op_type != "Identity"]
    assert graph_ops[:-2] == ops and sorted(graph_ops[-2:]) == ["ArgMax", "Softmax"]
    label, proba = _run(onx, X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(label, clf.predict(X))
    shifted = DistilledClassifier(architecture=architecture, n_bins=4, **TINY)
    shifted.fit(X, y + 1)  # labels 1..3: taken from the classes by index
    onx = skl2onnx.to_onnx(shifted, X[:1], options={id(shifted): {"zipmap": False}})
    assert onx.graph.node[-1].op_type == "Gather"
    label, _ = _run(onx, X)
    np.testing.assert_array_equal(label, shifted.predict(X))


def test_fill_missing_false_leaves_out_the_fill(data):
    # a student that accepts NaN (its teacher does) fills them in its graph;
    # fill_missing=False drops those nodes and predicts finite rows the same
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = data
    X = X.astype(np.float32)
    clf = DistilledClassifier(HistGradientBoostingClassifier(max_iter=5),
                              architecture="mlp", **TINY).fit(X, y)
    assert clf.student_.module_.handles_missing
    options = {"zipmap": False}
    filled = skl2onnx.to_onnx(clf, X[:1], options={id(clf): options})
    bare = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {**options,
                                                              "fill_missing": False}})
    ops = {n.op_type for n in filled.graph.node}
    assert {"IsNaN", "Where"} <= ops
    assert not {"IsNaN", "Where"} & {n.op_type for n in bare.graph.node}
    for onx in (filled, bare):
        label, proba = _run(onx, X)
        np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
        np.testing.assert_array_equal(label, clf.predict(X))
    # a NaN is filled by one graph and propagates through the other
    rows = X[:3].copy()
    rows[0, 1] = np.nan
    np.testing.assert_allclose(_run(filled, rows)[1], clf.predict_proba(rows),
                               atol=1e-5)
    assert np.isnan(_run(bare, rows)[1][0]).all()


def test_fill_missing_false_keeps_the_fill_of_missing_indicators(data):
    # a student fitted on rows with NaN reads their indicators: it fills
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = data
    X = X.astype(np.float32)
    X[::5, 0] = np.nan
    clf = DistilledClassifier(HistGradientBoostingClassifier(max_iter=5),
                              architecture="mlp", **TINY).fit(X, y)
    onx = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {
        "zipmap": False, "fill_missing": False}})
    assert "IsNaN" in {n.op_type for n in onx.graph.node}
    np.testing.assert_allclose(_run(onx, X)[1], clf.predict_proba(X), atol=1e-5)


def _zipped(proba, classes):
    """The probabilities of a ZipMap output (a list of dicts) as a matrix."""
    return np.array([[row[c] for c in classes] for row in proba])


@pytest.mark.parametrize("zipmap", [True, False, "columns"])
@pytest.mark.parametrize("frame", [False, True])
def test_float64_input_gives_a_valid_model(data, zipmap, frame):
    # ONNX's ZipMap takes float32 probabilities only: float64 input (a numpy
    # array or a DataFrame of float64 columns) must still give a model that
    # onnxruntime loads, with the default zipmap and without it
    pd = pytest.importorskip("pandas") if frame else None
    X, y = data
    clf = DistilledClassifier(**TINY)
    pipe = make_pipeline(StandardScaler(), clf)
    X_fit = pd.DataFrame(X, columns=["a", "b", "c", "d"]) if frame else X
    pipe.fit(X_fit, y)
    onx = skl2onnx.to_onnx(pipe, X_fit[:1], options={id(clf): {"zipmap": zipmap}})
    sess = ort.InferenceSession(onx.SerializeToString(),
                                providers=["CPUExecutionProvider"])
    if frame:
        feeds = {i.name: X_fit[[i.name]].to_numpy() for i in sess.get_inputs()}
    else:
        feeds = {"X": X}
    label, *proba = sess.run(None, feeds)
    np.testing.assert_array_equal(label, pipe.predict(X_fit))
    expected = pipe.predict_proba(X_fit)
    if zipmap is True:
        proba = _zipped(proba[0], clf.classes_)
    elif zipmap == "columns":
        proba = np.column_stack(proba)
    else:
        proba = proba[0]
        assert proba.dtype == np.float64  # as the input, without ZipMap
    np.testing.assert_allclose(proba, expected, atol=1e-5)
