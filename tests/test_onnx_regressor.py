"""ONNX export of a DistilledRegressor through skl2onnx."""

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kd import DistilledRegressor

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("sklearn_kd.onnx")

TINY = dict(alpha=0.0, max_epochs=3, hidden_layer_sizes=(8,), random_state=0)


def _data(n_outputs, dtype=np.float32, nan=False):
    X, y = make_regression(n_samples=200, n_features=4, n_targets=n_outputs,
                           noise=1.0, random_state=0)
    if nan:
        X[::4, 1] = np.nan
    return X.astype(dtype), y + 50.0  # a mean away from 0: Add matters


def _session(onx):
    return ort.InferenceSession(onx.SerializeToString(),
                                providers=["CPUExecutionProvider"])


def _check(got, reg, expected):
    """onnxruntime's output agrees with ``predict`` within 1e-4 relative,
    and within float32 rounding of the standardised outputs in absolute."""
    expected = np.asarray(expected).reshape(len(expected), -1)
    assert got.shape == expected.shape == (len(expected), reg.n_outputs_)
    atol = 1e-5 * float(np.max(reg.target_scale_))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pipeline_matches_predict(n_outputs, dtype):
    X, y = _data(n_outputs, dtype)
    reg = DistilledRegressor(**TINY)
    pipe = make_pipeline(StandardScaler(), reg).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1])
    sess = _session(onx)
    (output,) = sess.get_outputs()
    # as skl2onnx's regressors: (N, n_outputs), one column for one output,
    # of the input's float type
    assert output.name == "variable" and output.shape[1] == n_outputs
    assert output.type == ("tensor(float)" if dtype == np.float32
                           else "tensor(double)")
    (got,) = sess.run(None, {"X": X})
    assert got.dtype == dtype
    _check(got, reg, pipe.predict(X))


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_bare_regressor_ends_with_the_target_scaling(n_outputs):
    X, y = _data(n_outputs)
    reg = DistilledRegressor(architecture="mlp", **TINY).fit(X, y)
    onx = skl2onnx.to_onnx(reg, X[:1])
    ops = [n.op_type for n in onx.graph.node]
    assert ops[-2:] == ["Mul", "Add"]
    assert "Softmax" not in ops and "ArgMax" not in ops
    (got,) = _session(onx).run(None, {"X": X})
    _check(got, reg, reg.predict(X))


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("architecture", ["mlp", "ple"])
def test_missing_values_are_handled_as_in_predict(n_outputs, architecture):
    if architecture != "mlp":
        pytest.importorskip("rtdl_num_embeddings")
    X, y = _data(n_outputs, nan=True)
    reg = DistilledRegressor(architecture=architecture, n_bins=4, **TINY).fit(X, y)
    assert reg.student_.module_.handles_missing
    X_new = X.copy()
    X_new[:5, 2] = np.nan  # also where fit had none
    onx = skl2onnx.to_onnx(reg, X[:1])
    assert "IsNaN" in [n.op_type for n in onx.graph.node]
    (got,) = _session(onx).run(None, {"X": X_new})
    _check(got, reg, reg.predict(X_new))


def test_student_that_refuses_nan_still_exports():
    from sklearn.linear_model import Ridge

    X, y = _data(1)
    reg = DistilledRegressor(Ridge(), max_epochs=2, hidden_layer_sizes=(8,),
                             random_state=0).fit(X, y)
    (got,) = _session(skl2onnx.to_onnx(reg, X[:1])).run(None, {"X": X})
    _check(got, reg, reg.predict(X))


def test_categorical_columns_encoded_in_the_graph():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    n = 120
    frame = pd.DataFrame({
        "x": rng.normal(size=n),
        "city": rng.choice(["lyon", "paris", "nice"], n),
    })
    y = np.where(frame["city"] == "lyon", 3.0, -1.0) + frame["x"] + 20.0
    reg = DistilledRegressor(**TINY).fit(frame, y)
    assert reg.encoder_ is not None
    X = frame.head(20).copy()
    X.loc[0, "city"] = "marseille"  # unseen in fit: all zeros
    as_text = X.astype({"city": object})
    sess = _session(skl2onnx.to_onnx(reg, as_text[:1]))
    feeds = {"x": X[["x"]].to_numpy(), "city": as_text[["city"]].to_numpy()}
    (got,) = sess.run(None, feeds)
    assert got.dtype == np.float32  # several inputs: float32, as skl2onnx does
    _check(got, reg, reg.predict(X))


def test_fill_missing_false_leaves_out_the_fill():
    from sklearn.ensemble import HistGradientBoostingRegressor

    X, y = _data(1)
    reg = DistilledRegressor(HistGradientBoostingRegressor(max_iter=5),
                             architecture="mlp", **TINY).fit(X, y)
    assert reg.student_.module_.handles_missing
    onx = skl2onnx.to_onnx(reg, X[:1], options={id(reg): {"fill_missing": False}})
    assert not {"IsNaN", "Where"} & {n.op_type for n in onx.graph.node}
    sess = _session(onx)
    _check(sess.run(None, {sess.get_inputs()[0].name: X})[0], reg, reg.predict(X))
