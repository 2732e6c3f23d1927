"""ONNX export next to torch: model size and predict_proba speed.

Distils a 300-tree random forest on the cracker-choice table into the
perceptron (``architecture="mlp"``) and the default student (``"auto"``,
which for a forest is the piecewise-linear encoding on its split
thresholds, ``"ple-teacher"``), converts each with
skl2onnx (``import sklearn_kd.onnx``) and prints the ONNX file size, the
largest difference from ``predict_proba`` and the median time to predict
1,000 rows on one thread for the forest, the torch student and
onnxruntime, interleaved so that they share the machine's load.

Run with ``OMP_NUM_THREADS=1 python -m benchmarks.onnx_speed``.
"""

import os
import pickle
import time
import warnings

import numpy as np


def _median_ms(f, n=5):
    f()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import onnxruntime as ort
    import skl2onnx
    import torch
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import train_test_split

    import sklearn_kd.onnx  # noqa: F401  (registers the converter)
    from sklearn_kd import DistilledClassifier
    from sklearn_kd.persistence import without_teacher

    from .compression_data import load_table

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    X, y, _ = load_table("cracker-choice")
    X = X.astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, train_size=1500, test_size=1000, stratify=y, random_state=0
    )
    forest = RandomForestClassifier(300, random_state=0, n_jobs=1).fit(X_tr, y_tr)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    for architecture in ["mlp", "auto"]:
        clf = DistilledClassifier(FrozenEstimator(forest), architecture=architecture,
                                  max_epochs=3, random_state=0).fit(X_tr, y_tr)
        onx = skl2onnx.to_onnx(clf, X_te[:1], options={id(clf): {"zipmap": False}})
        model = onx.SerializeToString()
        session = ort.InferenceSession(model, options,
                                       providers=["CPUExecutionProvider"])
        _, proba = session.run(None, {"X": X_te})
        error = np.abs(proba - clf.predict_proba(X_te)).max()
        rows = [
            (_median_ms(lambda: forest.predict_proba(X_te)),
             _median_ms(lambda c=clf: c.predict_proba(X_te)),
             _median_ms(lambda s=session: s.run(None, {"X": X_te})))
            for _ in range(3)
        ]
        t_forest, t_torch, t_onnx = np.median(np.array(rows), axis=0)
        size = len(pickle.dumps(without_teacher(clf)))
        print(
            f"{architecture}: ONNX {len(model) / 1024:.1f} KB, pickled student "
            f"{size / 1024:.1f} KB, max |ONNX - predict_proba| {error:.1e}; "
            f"1,000 rows on 1 thread: forest {t_forest:.1f} ms, torch "
            f"{t_torch:.2f} ms ({t_forest / t_torch:.0f}x faster), onnxruntime "
            f"{t_onnx:.2f} ms ({t_forest / t_onnx:.0f}x faster)"
        )


if __name__ == "__main__":
    main()
