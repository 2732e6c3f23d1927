import os

from hypothesis import HealthCheck, Phase, settings

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
