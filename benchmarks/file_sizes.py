"""How many bytes a fitted student takes, saved and pickled.

Distils a histogram gradient boosting teacher on two tables of the
compression benchmark (cracker-choice, 1,500 rows; diamonds cut quality,
6,000 rows) into the perceptron (``architecture="mlp"``) and the default
student (``"auto"``: ``"ple-teacher"`` for this teacher) at the package's
default training settings, and prints, in KB:

- the raw bytes of the student's tensors (its ``state_dict``);
- the :func:`sklearn_kd.persistence.save` file, as written by default
  (each epoch's history) and with ``history="full"`` (skorch's per-batch
  records too, as files were written before), with the ratio of each to
  the raw weights;
- the pickle of :func:`sklearn_kd.persistence.without_teacher`, without
  training state (the default) and with it (``training_state=True``, the
  whole skorch net with its optimizer), and the pickle of the estimator
  itself, teacher included.

Run with ``python -m benchmarks.file_sizes``.
"""

from __future__ import annotations

import io
import os
import pickle
import warnings


def sizes(clf):
    """The sizes of one fitted DistilledClassifier, in bytes."""
    from sklearn_kd.persistence import save, without_teacher

    state = clf.student_.module_.state_dict()
    out = {"raw weights": sum(t.numel() * t.element_size() for t in state.values())}
    for label, kwargs in (("file", {}), ("file, full history", {"history": "full"})):
        try:
            out[label] = len(save(clf, io.BytesIO(), **kwargs).getvalue())
        except TypeError:  # a version whose save has no history option
            out[label] = len(save(clf, io.BytesIO()).getvalue())
    out["pickle, no teacher"] = len(pickle.dumps(without_teacher(clf)))
    try:
        lean = without_teacher(clf, training_state=True)
    except TypeError:  # a version without the option keeps everything
        lean = without_teacher(clf)
    out["pickle, no teacher, training state"] = len(pickle.dumps(lean))
    out["pickle, with teacher"] = len(pickle.dumps(clf))
    return out


def main():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.frozen import FrozenEstimator

    from sklearn_kd import DistilledClassifier

    from .compression_data import load_table

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    for table, rows in (("cracker-choice", 1500), ("diamonds-cut", 6000)):
        X, y, _ = load_table(table, max_rows=rows)
        teacher = HistGradientBoostingClassifier(random_state=0).fit(X, y)
        for architecture in ("mlp", "auto"):
            clf = DistilledClassifier(FrozenEstimator(teacher),
                                      architecture=architecture,
                                      random_state=0).fit(X, y)
            n_weights = sum(p.numel() for p in clf.student_.module_.parameters())
            result = sizes(clf)
            raw = result["raw weights"]
            print(f"\n{table} ({len(y)} rows), {clf.architecture_} student, "
                  f"{n_weights} weights, {clf.n_iter_} epochs")
            for label, n in result.items():
                print(f"  {label:<36}{n / 1024:>9.1f} KB{n / raw:>8.2f}x raw")


if __name__ == "__main__":
    main()
