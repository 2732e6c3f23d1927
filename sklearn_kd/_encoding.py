"""The student's encoding of a DataFrame's string and categorical columns.

A teacher may accept a DataFrame with string or pandas categorical columns
(a pipeline that one-hot encodes them, or histogram gradient boosting with
``categorical_features="from_dtype"``); the student, a torch network, needs
numbers. :class:`TableEncoder` is fitted on the training rows and maps such
a DataFrame to the float matrix the student sees: its numeric columns as
they are (missing values included), then each categorical column one-hot
encoded by scikit-learn's :class:`~sklearn.preprocessing.OneHotEncoder`.
The teacher keeps receiving the DataFrame itself.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted

#: Most distinct values (a missing value counts as one) of a categorical
#: column that the student one-hot encodes itself.
MAX_LEVELS = 64


#: What ``pandas.api.types.infer_dtype`` calls an object column of numbers,
#: which stays numeric.
_NUMBERS = {"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"}


def categorical_columns(X):
    """Positions of the categorical columns of a DataFrame ``X``: pandas
    categorical and string columns, and object columns that hold anything
    but numbers; empty for anything else (arrays, numeric frames)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns") or not hasattr(dtypes, "iloc"):
        return []
    import pandas as pd

    found = []
    for j, dtype in enumerate(dtypes):
        if getattr(dtype, "kind", None) != "O":
            continue
        if isinstance(dtype, pd.CategoricalDtype) or (
            pd.api.types.infer_dtype(X.iloc[:, j], skipna=True) not in _NUMBERS
        ):
            found.append(j)
    return found


def _too_many_levels_message(name, n_levels, max_levels):
    return (
        f"X's column {name!r} has {n_levels} distinct values, more than the "
        f"{max_levels} that the student one-hot encodes itself. Encode it in "
        "front of the estimator, so that teacher and student both receive "
        "the encoded features, e.g.\n\n"
        "    from sklearn.compose import make_column_transformer\n"
        "    from sklearn.preprocessing import TargetEncoder\n"
        "    from sklearn.pipeline import make_pipeline\n"
        "    model = make_pipeline(\n"
        f"        make_column_transformer((TargetEncoder(), [{name!r}]),\n"
        "                                remainder='passthrough'),\n"
        "        DistilledClassifier(teacher),\n"
        "    )\n"
    )


class TableEncoder(TransformerMixin, BaseEstimator):
    """Numeric columns as they are, categorical columns one-hot encoded.

    The categorical columns are those of dtype category or string, and
    those of dtype object that hold anything but numbers.
    Each is one-hot encoded on the levels seen in fit (a missing value is a
    level of its own when fit saw one); a level unseen in fit is encoded as
    all zeros. The output holds the numeric columns first, in their order,
    then the one-hot blocks in the order of their columns.

    Parameters
    ----------
    max_levels : int, default=64
        Most levels of a categorical column; more raise a ValueError that
        shows how to encode the column in front of the estimator.

    Attributes
    ----------
    numeric_ : list of int
        Positions of the numeric columns.
    categorical_ : list of int
        Positions of the categorical columns.
    dtypes_ : pandas Series
        The columns' dtypes in fit, restored by :meth:`inverse_transform`.
    transformer_ : ColumnTransformer
        The fitted scikit-learn transformer.
    source_ : ndarray of shape (n_features_out,)
        The input column of each output column.
    """

    def __init__(self, max_levels=MAX_LEVELS):
        self.max_levels = max_levels

    def fit(self, X, y=None):
        """Find the categorical columns and their levels in ``X``.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : TableEncoder
        """
        self.categorical_ = categorical_columns(X)
        self.numeric_ = [
            j for j in range(X.shape[1]) if j not in set(self.categorical_)
        ]
        for j in self.categorical_:
            n_levels = X.iloc[:, j].nunique(dropna=False)
            if n_levels > self.max_levels:
                raise ValueError(
                    _too_many_levels_message(X.columns[j], n_levels, self.max_levels)
                )
        self.dtypes_ = X.dtypes
        self.transformer_ = _column_transformer(self.numeric_, self.categorical_)
        self.transformer_.fit(_missing_as_nan(X, self.categorical_))
        self._set_source()
        return self

    def _set_source(self):
        source = list(self.numeric_)
        if self.categorical_:
            onehot = self.transformer_.named_transformers_["categorical"]
            for j, levels in zip(self.categorical_, onehot.categories_):
                source += [j] * len(levels)
        self.source_ = np.asarray(source, dtype=np.int64)

    def transform(self, X):
        """The float64 matrix the student sees.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self)
        Z = self.transformer_.transform(_missing_as_nan(X, self.categorical_))
        try:
            return np.asarray(Z, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "X's numeric columns must hold numbers, as in fit; got values "
                f"that cannot be converted to float ({exc})."
            ) from None

    def inverse_transform(self, Z):
        """A DataFrame whose encoding is near ``Z``: numeric columns as
        they are, each categorical column the level of its block's largest
        entry (None for an all-zero block), with the dtypes seen in fit.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_features_out)

        Returns
        -------
        X : DataFrame of shape (n_samples, n_features)
        """
        import pandas as pd

        check_is_fitted(self)
        columns = {}
        for k, j in enumerate(self.numeric_):
            columns[j] = Z[:, k]
        if self.categorical_:
            onehot = self.transformer_.named_transformers_["categorical"]
            levels = onehot.inverse_transform(Z[:, len(self.numeric_) :])
            for k, j in enumerate(self.categorical_):
                columns[j] = levels[:, k]
        frame = pd.DataFrame(
            {self.dtypes_.index[j]: columns[j] for j in range(len(self.dtypes_))}
        )
        return frame.astype(self.dtypes_.to_dict())

    def spec(self):
        """The plain data that rebuilds this encoder (:func:`from_spec`)."""
        check_is_fitted(self)
        onehot = (
            self.transformer_.named_transformers_["categorical"]
            if self.categorical_
            else None
        )
        return {
            "max_levels": int(self.max_levels),
            # names as they are when plain (a frame's default names are
            # integers), else as text
            "columns": [
                c if isinstance(c, (str, int)) and not isinstance(c, bool) else str(c)
                for c in self.dtypes_.index.tolist()
            ],
            "dtypes": [str(d) for d in self.dtypes_],
            "numeric": [int(j) for j in self.numeric_],
            "categorical": [int(j) for j in self.categorical_],
            "levels": []
            if onehot is None
            else [np.asarray(c).tolist() for c in onehot.categories_],
        }


def from_spec(spec):
    """The fitted :class:`TableEncoder` that ``spec`` describes."""
    import pandas as pd

    numeric, categorical = list(spec["numeric"]), list(spec["categorical"])
    levels = [list(c) for c in spec["levels"]]
    columns, dtypes = list(spec["columns"]), list(spec["dtypes"])
    if (
        len(levels) != len(categorical)
        or sorted(numeric + categorical) != list(range(len(columns)))
        or len(dtypes) != len(columns)
    ):
        raise ValueError("the encoder's columns and levels do not match")
    categories = [_levels_array(c) for c in levels]
    n_rows = max([len(c) for c in levels] + [1])
    frame = {}
    for j, name in enumerate(columns):
        if j in numeric:
            frame[name] = np.zeros(n_rows)
        else:
            values = categories[categorical.index(j)]
            frame[name] = values[np.arange(n_rows) % len(values)]
    frame = pd.DataFrame(frame)
    encoder = TableEncoder(max_levels=spec["max_levels"])
    encoder.categorical_, encoder.numeric_ = categorical, numeric
    encoder.transformer_ = _column_transformer(numeric, categorical, categories)
    encoder.transformer_.fit(frame)
    # the dtypes by name (a categorical column's levels are those above)
    encoder.dtypes_ = pd.Series(dtypes, index=pd.Index(columns), dtype=object)
    encoder._set_source()
    return encoder


def _missing_as_nan(X, categorical):
    """``X`` with its missing values as NaN: each text column (not pandas
    categorical) holding None or ``pd.NA`` as objects with one missing
    level, each numeric column of a pandas nullable dtype as float64. A copy
    when anything changes, else ``X`` itself."""
    import pandas as pd

    convert = {}
    for j, dtype in enumerate(X.dtypes):
        column = X.iloc[:, j]
        if j in categorical:
            if not isinstance(dtype, pd.CategoricalDtype) and column.isna().any():
                convert[j] = column.astype(object).where(column.notna(), np.nan)
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype):
            convert[j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if not convert:
        return X
    X = X.copy()
    for j, column in convert.items():
        X.isetitem(j, column)
    return X


def _levels_array(levels):
    """A column's levels as the one-hot encoder found them: an object array
    for text (where NaN and None stay themselves), numbers otherwise."""
    if any(isinstance(v, str) or v is None for v in levels):
        array = np.empty(len(levels), dtype=object)
        array[:] = levels
        return array
    return np.asarray(levels)


def _column_transformer(numeric, categorical, categories="auto"):
    steps = [("numeric", "passthrough", list(numeric))]
    if categorical:
        steps.append(
            (
                "categorical",
                OneHotEncoder(
                    categories=categories,
                    handle_unknown="ignore",
                    sparse_output=False,
                    dtype=np.float64,
                ),
                list(categorical),
            )
        )
    return ColumnTransformer(steps, sparse_threshold=0.0)
