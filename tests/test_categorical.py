"""String and categorical columns: the student encodes them itself while
the teacher receives the DataFrame as given."""

import io

import numpy as np
import pytest
import torch
from scipy.special import softmax
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sklearn_kd import DistilledClassifier
from sklearn_kd._student import teacher_thresholds
from sklearn_kd.persistence import load, save, without_teacher

pd = pytest.importorskip("pandas")

SMALL = dict(max_epochs=40, hidden_layer_sizes=(16,), lr=1e-2, random_state=0)
CITIES = ["lyon", "paris", "nice"]


def table(n=300, seed=0):
    """The class is mostly the city (a string column), nudged by ``x``; the
    colour (a pandas categorical) and ``z`` are noise."""
    rng = np.random.RandomState(seed)
    city = rng.choice(CITIES, n)
    x = rng.normal(size=n)
    score = np.where(city == "lyon", 1.5, np.where(city == "paris", -1.5, 0.0)) + x
    y = (score + 0.3 * rng.normal(size=n) > 0).astype(int)
    frame = pd.DataFrame(
        {
            "x": x,
            "city": city,
            "colour": pd.Categorical(rng.choice(["red", "green"], n)),
            "z": rng.normal(size=n),
        }
    )
    return frame, y


def one_hot_forest():
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city", "colour"]),
        remainder="passthrough",
    )
    return make_pipeline(encode, RandomForestClassifier(50, random_state=0))


@pytest.fixture(scope="module")
def frame():
    return table()


@pytest.fixture(scope="module")
def fitted(frame):
    X, y = frame
    return DistilledClassifier(one_hot_forest(), **SMALL).fit(X, y)


def test_pipeline_teacher_with_string_and_category_columns(frame, fitted):
    X, y = frame
    assert fitted.n_features_in_ == 4
    assert fitted.feature_names_in_.tolist() == ["x", "city", "colour", "z"]
    assert fitted.encoder_.categorical_ == [1, 2]
    # x and z, then three cities and two colours
    assert fitted.student_.module_.mean.shape == (2 + 3 + 2,)
    X_new, y_new = table(seed=1)
    teacher_accuracy = fitted.teacher_.score(X_new, y_new)
    assert fitted.score(X_new, y_new) >= 0.9 * teacher_accuracy
    assert fitted.score(X_new, y_new) > 0.75


def test_teacher_receives_the_dataframe(frame):
    X, y = frame
    X_before = X.copy()
    seen = []

    class Recording(RandomForestClassifier):
        def fit(self, X, y, **kwargs):
            seen.append(X)
            return super().fit(
                X.assign(
                    city=X["city"].map(CITIES.index), colour=X["colour"].cat.codes
                ),
                y,
            )

        def predict_proba(self, X):
            return super().predict_proba(
                X.assign(city=X["city"].map(CITIES.index), colour=X["colour"].cat.codes)
            )

    DistilledClassifier(Recording(10, random_state=0), max_epochs=2).fit(X, y)
    assert seen[0] is X
    pd.testing.assert_frame_equal(X, X_before)


def test_hist_gradient_boosting_from_dtype(frame):
    X, y = frame
    X = X.assign(city=X["city"].astype("category"))
    hgb = HistGradientBoostingClassifier(
        categorical_features="from_dtype", max_iter=30, random_state=0
    ).fit(X, y)
    # the encoding on the booster's thresholds, read with its categories
    clf = DistilledClassifier(
        FrozenEstimator(hgb), architecture="ple-teacher", **SMALL
    ).fit(X, y)
    assert clf.architecture_ == "ple-teacher"
    X_new, y_new = table(seed=1)
    X_new = X_new.assign(city=X_new["city"].astype("category"))
    assert clf.score(X_new, y_new) >= 0.9 * hgb.score(X_new, y_new)


def test_thresholds_of_hist_gradient_boosting_with_categories():
    """Its trees number the categorical columns first: the thresholds are
    read back in the order of X's columns."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {
            "x": rng.normal(size=200),
            "kind": pd.Categorical(rng.choice(["a", "b"], 200)),
        }
    )
    y = ((X["x"] > 0.5) ^ (X["kind"] == "a")).astype(int)
    hgb = HistGradientBoostingClassifier(
        categorical_features="from_dtype", max_iter=5
    ).fit(X, y)
    thresholds = teacher_thresholds(hgb, 2)
    assert len(thresholds[0]) > 0 and len(thresholds[1]) == 0
    assert np.any(np.abs(thresholds[0] - 0.5) < 0.2)


def test_unknown_level_is_all_zero(fitted, frame):
    X, _ = frame
    row = X.head(1).assign(city="marseille")
    encoded = fitted.encoder_.transform(row)
    np.testing.assert_array_equal(encoded[0, 2:5], 0.0)  # the city block
    proba = fitted.predict_proba(row)
    assert np.isfinite(proba).all()
    with torch.no_grad():
        logits = fitted.student_.module_(torch.as_tensor(encoded, dtype=torch.float32))
    np.testing.assert_allclose(proba, softmax(logits.numpy(), axis=1), rtol=1e-5)


def test_columns_must_match_at_predict(fitted, frame):
    X, _ = frame
    with pytest.raises(ValueError, match="feature names"):
        fitted.predict(X.rename(columns={"city": "town"}))


def test_persistence_round_trip(fitted, frame):
    X, _ = frame
    X = X.assign(city=np.where(np.arange(len(X)) < 5, "marseille", X["city"]))
    expected = fitted.predict_proba(X)
    restored = load(save(fitted, io.BytesIO()))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    np.testing.assert_array_equal(without_teacher(fitted).predict_proba(X), expected)


def test_missing_level_and_missing_numbers(frame):
    X, y = frame
    X = X.copy()
    X.loc[:30, "city"] = None
    X.loc[20:60, "x"] = np.nan
    teacher = HistGradientBoostingClassifier(
        categorical_features="from_dtype", max_iter=20
    )
    X = X.assign(city=X["city"].astype("category"))
    clf = DistilledClassifier(teacher, max_epochs=5, random_state=0).fit(X, y)
    assert clf.student_.module_.missing_index.tolist() == [0]  # x
    restored = load(save(clf, io.BytesIO()))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_munge_transfer_set_is_a_table_of_known_levels(frame):
    X, y = frame
    X = X.assign(city=X["city"].astype("category"))
    labelled = []

    class Recording(HistGradientBoostingClassifier):
        def predict_proba(self, X):
            labelled.append(X)
            return super().predict_proba(X)

    teacher = Recording(categorical_features="from_dtype", max_iter=10)
    DistilledClassifier(
        teacher, augment="munge", augment_size=1, max_epochs=2, random_state=0
    ).fit(X, y)
    transfer = labelled[-1]
    assert isinstance(transfer, pd.DataFrame) and len(transfer) == len(X)
    assert transfer.columns.tolist() == X.columns.tolist()
    assert isinstance(transfer["city"].dtype, pd.CategoricalDtype)
    assert set(transfer["city"].astype(str)) <= set(CITIES)
    assert transfer["x"].std() > 0.5


def test_teacher_that_cannot_read_strings_says_how_to_encode(frame):
    X, y = frame
    with pytest.raises(ValueError, match="make_column_transformer") as info:
        DistilledClassifier(RandomForestClassifier(5)).fit(X, y)
    message = str(info.value)
    assert "['city', 'colour']" in message and "OneHotEncoder" in message


def test_too_many_levels_says_how_to_encode(frame):
    X, y = frame
    X = X.assign(city=[f"c{i}" for i in range(len(X))])
    with pytest.raises(ValueError, match="'city' has 300 distinct values") as info:
        DistilledClassifier(one_hot_forest()).fit(X, y)
    assert "TargetEncoder" in str(info.value)


def test_onnx_reproduces_the_encoding(fitted, frame):
    """One ONNX input per column (text columns as strings): the one-hot
    encoding, an unknown level and a missing number as in predict_proba."""
    skl2onnx = pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("sklearn_kd.onnx")
    X, _ = frame
    X = X.head(20).copy()
    X.loc[0, "city"] = "marseille"  # unseen in fit: all zeros
    as_text = X.astype({"city": object, "colour": object})
    onx = skl2onnx.to_onnx(fitted, as_text[:1], options={id(fitted): {"zipmap": False}})
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feeds = {c: as_text[[c]].to_numpy() for c in as_text.columns}
    feeds = {
        c: v.astype(np.float64 if c in ("x", "z") else object) for c, v in feeds.items()
    }
    label, proba = session.run(None, feeds)
    np.testing.assert_allclose(proba, fitted.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(label, fitted.predict(X))


def test_onnx_refuses_a_missing_level_with_the_way_out(frame):
    skl2onnx = pytest.importorskip("skl2onnx")
    pytest.importorskip("sklearn_kd.onnx")
    X, y = frame
    X = X.assign(city=X["city"].where(np.arange(len(X)) > 5, None))
    clf = DistilledClassifier(alpha=0.0, max_epochs=2, random_state=0).fit(X, y)
    as_text = X.astype({"city": object, "colour": object})
    with pytest.raises(ValueError, match="missing level") as info:
        skl2onnx.to_onnx(clf, as_text[:1])
    assert "make_column_transformer" in str(info.value)


def test_persistence_of_numeric_levels_missing_levels_and_integer_names():
    rng = np.random.RandomState(0)
    n = 120
    X = pd.DataFrame(
        {
            0: rng.normal(size=n),
            1: pd.Categorical(rng.choice([1, 2, 3], n)),
            2: rng.choice(np.array(["a", "b", None], dtype=object), n),
        }
    )
    y = rng.randint(2, size=n)
    clf = DistilledClassifier(alpha=0.0, max_epochs=2, random_state=0).fit(X, y)
    levels = clf.encoder_.transformer_.named_transformers_["categorical"].categories_
    assert levels[0].tolist() == [1, 2, 3] and levels[1][-1] != levels[1][-1]  # NaN
    restored = load(save(clf, io.BytesIO()))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    unseen = X.head(2).copy()
    unseen[1] = pd.Categorical([7, 7])  # a level unseen in fit
    np.testing.assert_array_equal(
        restored.predict_proba(unseen), clf.predict_proba(unseen)
    )


def test_pandas_missing_values_in_text_and_nullable_columns():
    """pd.NA in a string column is one missing level; in a nullable integer
    column it is a missing value, handled as NaN."""
    rng = np.random.RandomState(0)
    n = 120
    text = pd.array(rng.choice(["p", "q"], n), dtype="string")
    text[:10] = pd.NA
    count = pd.array(rng.randint(0, 5, n), dtype="Int64")
    count[5:15] = pd.NA
    X = pd.DataFrame({"text": text, "count": count})
    X_before = X.copy()
    y = rng.randint(2, size=n)
    clf = DistilledClassifier(
        HistGradientBoostingClassifier(max_iter=5), max_epochs=2, random_state=0
    )
    clf = clf.fit(X[["count"]], y)
    assert clf.student_.module_.missing_index.tolist() == [0]
    clf = DistilledClassifier(alpha=0.0, max_epochs=2, random_state=0).fit(X, y)
    pd.testing.assert_frame_equal(X, X_before)
    levels = clf.encoder_.transformer_.named_transformers_["categorical"].categories_
    assert levels[0][:2].tolist() == ["p", "q"] and len(levels[0]) == 3
    restored = load(save(clf, io.BytesIO()))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_which_columns_are_categorical():
    from sklearn_kd._encoding import categorical_columns

    X = pd.DataFrame(
        {
            "numbers_as_objects": pd.Series([1.0, 2.5, np.nan], dtype=object),
            "text": ["a", "b", None],
            "levels": pd.Categorical([1, 2, 1]),
            "string": pd.Series(["a", None, "b"], dtype="string"),
            "float": [1.0, 2.0, 3.0],
            "bool": [True, False, True],
        }
    )
    assert categorical_columns(X) == [1, 2, 3]
    assert categorical_columns(X.to_numpy()) == []
