"""
Hierarchical synthetic data
===========================

:func:`~sklearn_kd.datasets.make_hierarchical_classification` draws classes
grouped in super-classes: class centres of the same super-class have cosine
``class_similarity`` and centres of different super-classes are orthogonal.
Each row is easy or hard (a small or a large noise scale), and because the
model is a known Gaussian mixture, the generator returns the exact Bayes
posterior of every row: an oracle teacher.

This example shows the three things the generator dials: the hierarchy (a
PCA projection of the rows, coloured by super-class), the class relations
(the cosine matrix of the class centres) and the instance difficulty (the
oracle's probability of the true class on easy and hard rows).
"""

# %%
# Generate the data
# -----------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from sklearn_kd.datasets import make_hierarchical_classification

X, y, info = make_hierarchical_classification(
    n_samples=3000,
    n_features=20,
    n_superclasses=3,
    n_subclasses=3,
    class_similarity=0.7,
    hard_fraction=0.3,
    easy_noise=1.0,
    hard_noise=2.5,
    random_state=0,
    return_oracle=True,
)
superclass = info.superclass[y]
confidence = info.oracle_proba[np.arange(len(y)), y]
accuracy = np.mean(info.oracle_proba.argmax(axis=1) == y)
print(f"Oracle accuracy: {accuracy:.3f}")
print(f"Mean true-class probability, easy rows: {confidence[~info.hard].mean():.3f}")
print(f"Mean true-class probability, hard rows: {confidence[info.hard].mean():.3f}")

# %%
# Plot the hierarchy, the class relations and the difficulty
# -----------------------------------------------------------
# Rows of the same super-class cluster together in the first two principal
# components; the cosine matrix of the centres is block diagonal with
# ``class_similarity`` inside the blocks; hard rows leave the oracle much less
# sure of their class than easy rows.
pca = PCA(n_components=2).fit(X)
X2 = pca.transform(X)
centers2 = pca.transform(info.class_centers)
unit = info.class_centers / np.linalg.norm(info.class_centers, axis=1, keepdims=True)

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
ax = axes[0]
for s in range(3):
    rows = superclass == s
    ax.scatter(X2[rows, 0], X2[rows, 1], s=5, alpha=0.5, label=f"super-class {s}")
ax.scatter(centers2[:, 0], centers2[:, 1], c="k", marker="x", s=60, label="centres")
ax.set(title="PCA projection of X", xlabel="PC 1", ylabel="PC 2")
ax.legend(fontsize="small")

ax = axes[1]
image = ax.imshow(unit @ unit.T, vmin=0, vmax=1, cmap="viridis")
ax.set(title="Cosine between class centres", xlabel="class", ylabel="class")
fig.colorbar(image, ax=ax, fraction=0.046)

ax = axes[2]
bins = np.linspace(0, 1, 26)
ax.hist(confidence[~info.hard], bins=bins, alpha=0.6, density=True, label="easy")
ax.hist(confidence[info.hard], bins=bins, alpha=0.6, density=True, label="hard")
ax.set(
    title="Oracle probability of the true class",
    xlabel="p(y | x, sigma)",
    ylabel="density",
)
ax.legend()
fig.tight_layout()
plt.show()
