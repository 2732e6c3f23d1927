"""Results cached as one JSON file per (experiment, configuration, seed)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def canonical(obj):
    """JSON text of ``obj`` with sorted keys: the identity of a run."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


class JsonCache:
    """A directory of JSON results keyed by a hash of their configuration."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0

    def path(self, key):
        digest = hashlib.sha256(canonical(key).encode()).hexdigest()[:24]
        kind = key.get("experiment", key.get("task", "run"))
        name = f"{kind}-{key.get('seed', 'x')}-{digest}"
        return self.directory / f"{name}.json"

    def get(self, key):
        path = self.path(key)
        if not path.exists():
            self.misses += 1
            return None
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            self.misses += 1
            return None  # a torn write from an interrupted run: recompute
        if stored.get("key") != json.loads(canonical(key)):
            self.misses += 1
            return None
        self.hits += 1
        return stored["result"]

    def set(self, key, result):
        path = self.path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(
            json.dumps({"key": json.loads(canonical(key)), "result": result})
        )
        os.replace(tmp, path)  # atomic: a killed run leaves no half file


def cached_json(path, compute, *args):
    """The JSON result stored at ``path``, or ``compute(*args)`` stored
    there first: one file per task, so an interrupted run resumes."""
    path = Path(path)
    if path.exists():
        return json.loads(path.read_text())
    result = compute(*args)
    path.write_text(json.dumps(result))
    return result
