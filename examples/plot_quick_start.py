"""
Quick start: distil a random forest into a small network
========================================================

This example trains a :class:`~sklearn_kd.DistilledClassifier` on the
handwritten digits shipped with scikit-learn. The teacher is a random forest;
the student is a one-hidden-layer network that learns from the forest's
predicted probabilities as well as from the labels. We compare it with the
same network trained on the labels alone, and with the teacher.
"""

# %%
# Load the data
# -------------
# 1797 images of 8x8 pixels, ten classes. We keep a quarter of them for
# testing.
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"{X_train.shape[0]} training rows, {X_test.shape[0]} test rows")

# %%
# Distil the forest
# -----------------
# The forest is cloned and fitted inside ``fit``. A forest predicts its own
# training rows with near one-hot probabilities, which carry nothing beyond
# the labels, so ``teacher_cv=5`` lets the student learn from out-of-fold
# probabilities instead (see :ref:`teacher_cv`). ``alpha=0.5`` weighs the
# teacher and the labels equally; ``temperature=1`` uses the teacher's
# probabilities as they are (:ref:`choosing_temperature` explains when to
# change it).
from sklearn.ensemble import RandomForestClassifier

from sklearn_kd import DistilledClassifier

student_params = dict(hidden_layer_sizes=(64,), max_epochs=100, random_state=0)
student = DistilledClassifier(
    RandomForestClassifier(n_estimators=200, random_state=0),
    temperature=1.0,
    alpha=0.5,
    teacher_cv=5,
    **student_params,
)
student.fit(X_train, y_train)

# %%
# The fitted estimator is a regular scikit-learn classifier. Its HTML
# representation shows the teacher it wraps.
student

# %%
# A baseline on the hard labels
# -----------------------------
# ``alpha=0`` gives plain cross-entropy: the same network, the same
# optimiser and the same seed, without a teacher.
baseline = DistilledClassifier(alpha=0.0, **student_params).fit(X_train, y_train)

# %%
# Compare accuracy and fidelity
# -----------------------------
# Accuracy measures the labels; *agreement* measures how often the student
# predicts what its teacher predicts (see :ref:`evaluation`). On this small,
# easy data set a network trained on the labels alone is already good, and
# the two students are within the noise of one split of each other; what
# distillation buys here is a network that predicts much faster than the
# forest (:ref:`sphx_glr_auto_examples_plot_distill_hist_gradient_boosting.py`
# times it) while following it closely. Tune ``temperature`` and ``alpha``
# by cross-validation
# (:ref:`sphx_glr_auto_examples_plot_tune_temperature.py`).
import pandas as pd

from sklearn_kd.metrics import agreement

teacher = student.teacher_
teacher_pred = teacher.predict(X_test)
models = {
    "teacher (random forest)": teacher,
    "distilled student": student,
    "hard-label student": baseline,
}
pd.DataFrame(
    {
        "test accuracy": [m.score(X_test, y_test) for m in models.values()],
        "agreement with teacher": [
            agreement(m.predict(X_test), teacher_pred) for m in models.values()
        ],
    },
    index=list(models),
).round(3)

# %%
# Training curves
# ---------------
# ``history_`` holds skorch's per-epoch records. The two losses are on
# different scales (the distilled one includes the teacher term), so each
# curve is shown relative to its first epoch.
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, model in [("distilled", student), ("hard labels", baseline)]:
    loss = np.array(model.history_[:, "train_loss"])
    ax.plot(np.arange(1, len(loss) + 1), loss / loss[0], label=name)
ax.set(
    xlabel="epoch",
    ylabel="training loss / first epoch",
    yscale="log",
    title="Training loss of the two students",
)
ax.legend()
fig.tight_layout()
plt.show()
