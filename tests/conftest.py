"""Hypothesis profiles and the fixtures shared by the test files."""

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from sklearn.datasets import make_classification

# No example database: a failing draw is reported with its reproduction blob
# (``print_blob``) instead of being stored and replayed, so every run's result
# depends on the code and the profile alone.
settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
# Mutation testing runs the covering tests once per mutant: fewer, fixed
# draws, and no shrinking (a mutant needs one failing example, not a minimal one).
settings.register_profile(
    "mutation",
    max_examples=15,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def data():
    """Three classes, 160 rows, 6 features: the default small problem."""
    return make_classification(
        n_samples=160, n_features=6, n_informative=4, n_classes=3, random_state=0
    )


@pytest.fixture(scope="session")
def binary_data():
    """Two classes, 60 rows, 4 features: the smallest problem."""
    return make_classification(
        n_samples=60, n_features=4, n_informative=3, n_redundant=0, random_state=0
    )


@pytest.fixture(scope="session")
def tiny():
    """Settings of a tiny, fast student (a few epochs, one small layer)."""
    return dict(max_epochs=3, hidden_layer_sizes=(8,), lr=1e-2, random_state=0)
