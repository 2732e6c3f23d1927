import os

from hypothesis import HealthCheck, settings

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
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
