"""The ``speed`` experiment: rows per second and peak memory of a fit.

Each (method, n_samples, n_classes) configuration runs in a fresh
subprocess (``python -m benchmarks.speed WORKER_JSON``) so that its peak
resident memory (``getrusage`` maxrss, which tracemalloc cannot replace:
torch allocates outside Python) is its own; on CUDA the peak is
``torch.cuda.max_memory_allocated``. Every worker builds the same data,
warms the method up on a small slice (one epoch on 2048 rows), then times
one fit of ``epochs`` passes. Methods, all with the same MLP, batch size,
epochs and Adam learning rate:

- ``distilled``: :class:`~sklearn_kd.DistilledClassifier` with precomputed
  teacher probabilities (KD loss, alpha 0.9, T 2);
- ``plain_torch``: a hand-written PyTorch KD loop on prebuilt tensors with
  index slicing, the same loss; the floor the estimator is compared with;
- ``skorch_default``: skorch's ``NeuralNetClassifier`` on hard labels with
  its default ``Dataset``/``DataLoader`` path;
- ``sklearn_mlp``: scikit-learn's ``MLPClassifier`` on hard labels (CPU).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

WARMUP_ROWS = 2048
N_FEATURES = 32
TEMPERATURE = 2.0
ALPHA = 0.9
LR = 1e-3


def _maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _data(n, n_classes, n_features, seed=0):
    """Features, labels and float32 teacher probabilities, built in place."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features), dtype=np.float32)
    # every class in every slice of n_classes consecutive rows, so that the
    # warm-up slice holds all the classes the teacher's columns name
    y = np.arange(n) % n_classes
    proba = rng.standard_normal((n, n_classes), dtype=np.float32)
    proba *= 2.0
    proba -= proba.max(axis=1, keepdims=True)
    np.exp(proba, out=proba)
    proba /= proba.sum(axis=1, keepdims=True)
    return X, y, proba


def _mlp(n_features, n_classes, hidden):
    from sklearn_kd import MLPStudent

    return MLPStudent(n_features, n_classes, hidden_layer_sizes=tuple(hidden))


def fit_distilled(X, y, proba, cfg):
    from sklearn_kd import DistilledClassifier

    DistilledClassifier(
        alpha=ALPHA, temperature=TEMPERATURE,
        hidden_layer_sizes=tuple(cfg["hidden"]), max_epochs=cfg["epochs"],
        batch_size=cfg["batch_size"], lr=LR, n_iter_no_change=None,
        device=cfg["device"], random_state=0,
    ).fit(X, y, teacher_proba=proba)


def fit_plain_torch(X, y, proba, cfg):
    import torch
    import torch.nn.functional as F

    device = torch.device(cfg["device"])
    torch.manual_seed(0)
    net = _mlp(X.shape[1], proba.shape[1], cfg["hidden"]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    X_t = torch.as_tensor(X, device=device)
    y_t = torch.as_tensor(y, device=device)
    q = torch.as_tensor(proba, dtype=torch.float32, device=device)
    log_q_T = torch.log(q)
    log_q_T /= TEMPERATURE
    log_q_T = torch.log_softmax(log_q_T, dim=1)
    n, bs, T = len(X_t), cfg["batch_size"], TEMPERATURE
    for _ in range(cfg["epochs"]):
        order = torch.randperm(n, device=device)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            z = net(X_t[idx])
            hard = F.cross_entropy(z, y_t[idx])
            soft = F.kl_div(F.log_softmax(z / T, dim=1), log_q_T[idx],
                            reduction="batchmean", log_target=True)
            loss = (1 - ALPHA) * hard + ALPHA * T * T * soft
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()


def fit_skorch_default(X, y, proba, cfg):
    import torch
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)
    NeuralNetClassifier(
        _mlp(X.shape[1], proba.shape[1], cfg["hidden"]),
        criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=LR,
        max_epochs=cfg["epochs"], batch_size=cfg["batch_size"], train_split=None,
        iterator_train__shuffle=True, device=cfg["device"], verbose=0,
    ).fit(X, y)


def fit_sklearn_mlp(X, y, proba, cfg):
    from sklearn.neural_network import MLPClassifier

    MLPClassifier(
        hidden_layer_sizes=tuple(cfg["hidden"]), batch_size=cfg["batch_size"],
        max_iter=cfg["epochs"], learning_rate_init=LR, tol=0.0,
        n_iter_no_change=cfg["epochs"] + 1, random_state=0,
    ).fit(X, y)


METHODS = {
    "distilled": fit_distilled,
    "plain_torch": fit_plain_torch,
    "skorch_default": fit_skorch_default,
    "sklearn_mlp": fit_sklearn_mlp,
}


def worker(cfg):
    """Measure one configuration in this (fresh) process."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(cfg["threads"])
    threadpool_limits(cfg["threads"])
    warnings.simplefilter("ignore")
    if cfg["method"] == "sklearn_mlp":
        cfg = {**cfg, "device": "cpu"}
    cuda = cfg["device"].startswith("cuda")
    fit = METHODS[cfg["method"]]
    X, y, proba = _data(cfg["n_samples"], cfg["n_classes"], cfg["n_features"])
    m = min(WARMUP_ROWS, len(X))
    fit(X[:m], y[:m], proba[:m], {**cfg, "epochs": 1})
    base_mb = _maxrss_mb()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    fit(X, y, proba, cfg)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    out = dict(
        seconds=seconds,
        rows_per_second=cfg["n_samples"] * cfg["epochs"] / seconds,
        peak_rss_mb=_maxrss_mb(),
        peak_rss_delta_mb=_maxrss_mb() - base_mb,
        data_rss_mb=base_mb,
    )
    if cuda:
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def configurations(P, device, threads):
    S = P["speed"]
    batch = S["cuda_batch_size"] if device.startswith("cuda") else S["batch_size"]
    for n_classes in S["n_classes"]:
        for n in S["n_samples"]:
            epochs = S["epochs"].get(str(n), S["epochs"]["default"])
            for method in S["methods"]:
                yield dict(
                    experiment="speed", method=method, n_samples=n,
                    n_classes=n_classes, n_features=S["n_features"],
                    hidden=S["hidden_layer_sizes"], batch_size=batch,
                    epochs=epochs, device=device, threads=threads,
                )


def _available_mb():
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (ValueError, OSError, AttributeError):
        return float("inf")


def estimated_mb(cfg):
    """Rough peak of the hungriest method.

    The float32 teacher matrix (4 bytes per entry) plus, for MLPClassifier,
    its one-hot int64 targets (8 bytes per entry); DistilledClassifier and
    the plain loop add float32 log-targets (4 bytes per entry).
    """
    return (cfg["n_samples"] * cfg["n_classes"] * (4 + 8)
            + cfg["n_samples"] * cfg["n_features"] * 4 * 4) / 2**20


def run_configuration(cfg, memory_fraction, timeout=3600):
    """Run one configuration in a subprocess; a dict, with ``skipped`` if not."""
    need = estimated_mb(cfg)
    if need > memory_fraction * _available_mb():
        return dict(skipped=f"needs about {need:.0f} MB, more than "
                    f"{memory_fraction:.0%} of the {_available_mb():.0f} MB free")
    env = {**os.environ, "OMP_NUM_THREADS": str(cfg["threads"]),
           "MKL_NUM_THREADS": str(cfg["threads"])}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.speed", json.dumps(cfg)],
        capture_output=True, text=True, timeout=timeout, env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    if proc.returncode != 0:
        return dict(skipped=f"worker failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
