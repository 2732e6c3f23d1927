"""
Missing values and categorical columns
======================================

The student accepts what its teacher accepts. This example distils a
:class:`~sklearn.ensemble.HistGradientBoostingClassifier`, which handles
missing values natively, on a table whose values are missing *not* at
random (the missingness tells about the class), and then a pipeline that
one-hot encodes the string column of a DataFrame. Neither needs an imputer
or an encoder in front of the student. See :ref:`missing_values`.
"""

# %%
# Values missing not at random
# ----------------------------
# Feature ``j`` is hidden in 60 % of the rows of class ``j mod 3`` and in
# 5 % of the others.
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

X, y = make_classification(
    n_samples=2000, n_features=8, n_informative=4, n_redundant=2,
    n_classes=3, class_sep=0.6, random_state=0,
)
rng = np.random.RandomState(0)
for j in range(X.shape[1]):
    X[rng.rand(len(X)) < np.where(y == j % 3, 0.6, 0.05), j] = np.nan
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
print(f"{np.isnan(X_train).mean():.0%} of the training values are missing")

# %%
# Distil
# ------
# The teacher is fitted on the rows with their missing values, and so is the
# student: it replaces a missing value by the feature's training mean and
# adds a missing indicator per feature that had missing values, inside the
# network. The MUNGE transfer set keeps missing values as such. (Both
# teachers here are nearly one-hot on their training rows, which
# :class:`~sklearn_kd.OverconfidentTeacherWarning` would point out; that is
# not this example's subject.)
import warnings

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

from sklearn_kd import DistilledClassifier, OverconfidentTeacherWarning

warnings.filterwarnings("ignore", category=OverconfidentTeacherWarning)

teacher = HistGradientBoostingClassifier(random_state=0).fit(X_train, y_train)
student = DistilledClassifier(
    FrozenEstimator(teacher), augment="munge", augment_size=4, max_epochs=50,
    random_state=0,
).fit(X_train, y_train)
print("features with a missing indicator:",
      student.student_.module_.missing_index.tolist())
print(f"teacher accuracy {teacher.score(X_test, y_test):.3f}, "
      f"student accuracy {student.score(X_test, y_test):.3f}")

# %%
# A teacher that does not accept missing values
# ---------------------------------------------
# A logistic regression refuses them, and so does its student, with the way
# out: impute in front of the whole estimator.
from sklearn.linear_model import LogisticRegression

try:
    DistilledClassifier(LogisticRegression()).fit(X_train, y_train)
except ValueError as error:
    print(error)

# %%
# String and categorical columns
# ------------------------------
# The teacher receives the DataFrame as it is and one-hot encodes the city
# itself; the student fits its own encoding (``encoder_``), in which a city
# unseen in fit is all zeros.
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

city = rng.choice(["lyon", "paris", "nice"], len(y))
frame = pd.DataFrame({"city": city, "x": rng.normal(size=len(y))})
label = ((city == "lyon") | (frame["x"] > 1)).astype(int)
forest = make_pipeline(
    make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), remainder="passthrough"
    ),
    RandomForestClassifier(100, min_samples_leaf=5, random_state=0),
)
student = DistilledClassifier(forest, max_epochs=50, random_state=0)
student.fit(frame[:1000], label[:1000])
print(f"teacher accuracy {student.teacher_.score(frame[1000:], label[1000:]):.3f}, "
      f"student accuracy {student.score(frame[1000:], label[1000:]):.3f}")
print(student.predict_proba(pd.DataFrame({"city": ["marseille"], "x": [0.0]})))
