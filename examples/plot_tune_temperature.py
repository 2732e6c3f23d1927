"""
Tune the temperature and ``alpha`` with a grid search
=====================================================

:class:`~sklearn_kd.DistilledClassifier` is an ordinary scikit-learn
estimator, so :class:`~sklearn.model_selection.GridSearchCV` tunes its
``temperature`` and ``alpha`` like any other hyper-parameters
(:ref:`choosing_temperature`). Two details make the search cheap and
meaningful:

- ``memory=`` caches the teacher and its probabilities, so all candidates of
  the grid reuse one teacher per cross-validation fold;
- ``teacher_cv=`` gives the student out-of-fold teacher probabilities: a
  random forest is nearly one-hot on its own training rows.

The teacher is a random forest on the handwritten digits. Its out-of-fold
probabilities are rather *under*-confident (averaged votes), so the grid
includes a temperature below one, which sharpens them.
"""

# %%
# Data
# ----
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# The search
# ----------
# Every candidate shares ``random_state=0``, so the differences between
# candidates are not initialisation noise. The cache lives in a temporary
# directory that is removed at the end.
import tempfile

import pandas as pd
from joblib import Memory
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV

from sklearn_kd import DistilledClassifier

cache_dir = tempfile.mkdtemp(prefix="sklearn_kd_cache_")
student = DistilledClassifier(
    RandomForestClassifier(n_estimators=100, random_state=0),
    teacher_cv=3,
    hidden_layer_sizes=(32,),
    max_epochs=40,
    memory=Memory(cache_dir, verbose=0),
    random_state=0,
)
param_grid = {"temperature": [0.5, 1.0, 2.0, 4.0], "alpha": [0.5, 0.9]}
search = GridSearchCV(student, param_grid, cv=3).fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_)
table = results.pivot(
    index="param_temperature", columns="param_alpha", values="mean_test_score"
)
table.round(4)

# %%
# Plot the cross-validated accuracy
# ---------------------------------
import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator

fig, ax = plt.subplots(figsize=(6, 3.5))
for alpha, group in results.groupby("param_alpha"):
    ax.errorbar(
        group["param_temperature"],
        group["mean_test_score"],
        yerr=group["std_test_score"],
        marker="o",
        capsize=3,
        label=f"alpha = {alpha}",
    )
# The temperatures double from one to the next: a log axis spaces them
# evenly. Only the grid's values are ticked, in plain numbers.
ax.set(
    xscale="log",
    xlabel="temperature T (log scale)",
    ylabel="cross-validated accuracy",
    title="Grid search over the temperature and alpha",
)
temperatures = param_grid["temperature"]
ax.set_xticks(temperatures, labels=[f"{t:g}" for t in temperatures])
ax.xaxis.set_minor_locator(NullLocator())
# The accuracy axis spans a few points only: say so on the figure.
low, high = ax.get_ylim()
ax.text(
    0.99,
    0.03,
    f"accuracy axis from {low:.2f} to {high:.2f}, not from zero",
    transform=ax.transAxes,
    ha="right",
    fontsize="small",
    color="0.3",
)
ax.legend(loc="lower left")
fig.tight_layout()
plt.show()

# %%
# The best candidate, refitted on all training rows
# -------------------------------------------------
# ``GridSearchCV`` refits the best candidate on the whole training set; its
# teacher comes from the cache when the same rows were seen before.
print(f"Best parameters: {search.best_params_}")
print(f"Cross-validated accuracy: {search.best_score_:.3f}")
print(f"Test accuracy of the refitted student: {search.score(X_test, y_test):.3f}")
print(
    "Test accuracy of its teacher: "
    f"{search.best_estimator_.teacher_.score(X_test, y_test):.3f}"
)

# %%
# The differences between candidates are small on this easy data set (a few
# rows of each fold), and the standard deviations over folds overlap: treat
# the search as a way to avoid a bad setting (here, a large temperature with
# a large ``alpha`` over-smooths an already soft teacher) more than to
# find a precise optimum. The same search runs on a Dask or Ray cluster
# unchanged (:ref:`scale_out`).
import shutil

shutil.rmtree(cache_dir, ignore_errors=True)
