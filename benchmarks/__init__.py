"""Benchmarks of sklearn_kd: the theory's predictions S1-S9 and speed.

Run ``python -m benchmarks --profile quick --output DIR``. Every student fit
is cached under ``DIR/cache`` (one JSON file per experiment, configuration
and seed), so an interrupted run resumes where it stopped. ``DIR`` receives
``report.md`` (tables and a verdict per prediction), ``results.json`` (every
number, with seeds, configuration, package versions and machine) and PNG
figures.
"""
