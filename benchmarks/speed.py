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

Run as ``python -m benchmarks.speed --output DIR``, the module runs the
side-by-side experiment instead (:func:`side_by_side`): every method above,
plus the plain loop with torch's fused Adam (KD and cross-entropy), with
default Adam, and the estimator with ``alpha=0``, timed in one process per
thread count, round after round in rotating order, on digits-sized data and
on 50,000 rows; the growth of the time per epoch with the number of rows and
of classes (log-log slopes); and the added peak memory of a 500,000-row fit
against the plain loop's, each in a fresh process. It writes ``speed.json``,
``speed.md`` (the tables) and ``speed.png``.
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
    """The plain network: linear layers and ReLUs, nothing else."""
    import torch

    layers, width = [], n_features
    for size in hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        width = size
    layers.append(torch.nn.Linear(width, n_classes))
    return torch.nn.Sequential(*layers)


def fit_distilled(X, y, proba, cfg, alpha=ALPHA):
    from sklearn_kd import DistilledClassifier

    clf = DistilledClassifier(
        alpha=alpha,
        temperature=TEMPERATURE,
        hidden_layer_sizes=tuple(cfg["hidden"]),
        architecture="mlp",
        max_epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        lr=LR,
        n_iter_no_change=None,
        device=cfg["device"],
        random_state=0,
    )
    if "n_threads" in clf.get_params():  # the same threads as the baselines
        clf.set_params(n_threads=cfg["threads"])
    clf.fit(X, y, teacher_proba=proba if alpha > 0 else None)


def fit_distilled_alpha0(X, y, proba, cfg):
    fit_distilled(X, y, proba, cfg, alpha=0.0)


def fit_plain_torch(X, y, proba, cfg, fused=False, kd=True):
    """The hand-written loop: index batches, KD (or CE) loss, Adam."""
    import torch
    import torch.nn.functional as F

    device = torch.device(cfg["device"])
    torch.manual_seed(0)
    net = _mlp(X.shape[1], proba.shape[1], cfg["hidden"]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=LR, fused=fused or None)
    X_t = torch.as_tensor(X, device=device)
    y_t = torch.as_tensor(y, device=device)
    if kd:
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
            loss = F.cross_entropy(z, y_t[idx])
            if kd:
                soft = F.kl_div(
                    F.log_softmax(z / T, dim=1),
                    log_q_T[idx],
                    reduction="batchmean",
                    log_target=True,
                )
                loss = (1 - ALPHA) * loss + ALPHA * T * T * soft
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()


def fit_plain_kd_fused(X, y, proba, cfg):
    fit_plain_torch(X, y, proba, cfg, fused=True)


def fit_plain_ce_fused(X, y, proba, cfg):
    fit_plain_torch(X, y, proba, cfg, fused=True, kd=False)


def fit_skorch_default(X, y, proba, cfg):
    import torch
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)
    NeuralNetClassifier(
        _mlp(X.shape[1], proba.shape[1], cfg["hidden"]),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        max_epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        train_split=None,
        iterator_train__shuffle=True,
        device=cfg["device"],
        verbose=0,
    ).fit(X, y)


def fit_sklearn_mlp(X, y, proba, cfg):
    from sklearn.neural_network import MLPClassifier

    MLPClassifier(
        hidden_layer_sizes=tuple(cfg["hidden"]),
        batch_size=cfg["batch_size"],
        max_iter=cfg["epochs"],
        learning_rate_init=LR,
        tol=0.0,
        n_iter_no_change=cfg["epochs"] + 1,
        random_state=0,
    ).fit(X, y)


METHODS = {
    "distilled": fit_distilled,
    "plain_torch": fit_plain_torch,
    "skorch_default": fit_skorch_default,
    "sklearn_mlp": fit_sklearn_mlp,
    "distilled_alpha0": fit_distilled_alpha0,
    "plain_kd_fused": fit_plain_kd_fused,
    "plain_ce_fused": fit_plain_ce_fused,
}

#: The side-by-side experiment: its methods, in the table's order, with
#: their labels.
SIDE_BY_SIDE = {
    "sklearn_mlp": "sklearn MLPClassifier, float32 X",
    "plain_ce_fused": "Plain loop, CE, fused Adam",
    "plain_torch": "Plain loop, KD, default Adam",
    "plain_kd_fused": "Plain loop, KD, fused Adam",
    "skorch_default": "skorch NeuralNetClassifier (default)",
    "distilled": "DistilledClassifier, KD",
    "distilled_alpha0": "DistilledClassifier, alpha=0",
}

#: The ratios of throughput reported, as (numerator, denominator).
RATIOS = [
    ("distilled", "sklearn_mlp"),
    ("distilled", "plain_kd_fused"),
    ("distilled", "plain_torch"),
    ("distilled", "skorch_default"),
    ("distilled_alpha0", "plain_ce_fused"),
    ("distilled_alpha0", "sklearn_mlp"),
]

#: Scenarios: digits-sized (1,347 x 64, 64-100-10, batch 128, 100 epochs)
#: and a larger table (50,000 x 64, 64-128-128-20, batch 256).
SCENARIOS = {
    "small": dict(
        n_samples=1347,
        n_features=64,
        n_classes=10,
        hidden=[100],
        batch_size=128,
        epochs=100,
    ),
    "large": dict(
        n_samples=50_000,
        n_features=64,
        n_classes=20,
        hidden=[128, 128],
        batch_size=256,
        epochs=3,
    ),
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
                    experiment="speed",
                    method=method,
                    n_samples=n,
                    n_classes=n_classes,
                    n_features=S["n_features"],
                    hidden=S["hidden_layer_sizes"],
                    batch_size=batch,
                    epochs=epochs,
                    device=device,
                    threads=threads,
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
    return (
        cfg["n_samples"] * cfg["n_classes"] * (4 + 8)
        + cfg["n_samples"] * cfg["n_features"] * 4 * 4
    ) / 2**20


def run_configuration(cfg, memory_fraction, timeout=3600):
    """Run one configuration in a subprocess; a dict, with ``skipped`` if not."""
    need = estimated_mb(cfg)
    if need > memory_fraction * _available_mb():
        return dict(
            skipped=f"needs about {need:.0f} MB, more than "
            f"{memory_fraction:.0%} of the {_available_mb():.0f} MB free"
        )
    try:
        return _run_python([json.dumps(cfg)], cfg["threads"], timeout)
    except RuntimeError as exc:
        return dict(skipped=f"worker failed: {str(exc).strip()[-500:]}")


def _digits_like():
    """Digits' 1,347 training rows, float32, and a teacher's probabilities."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=1347, random_state=0, stratify=y)
    X = X.astype(np.float32)
    teacher = LogisticRegression(max_iter=2000).fit(X, y)
    return X, y, teacher.predict_proba(X).astype(np.float32)


def _scenario_data(name, n_samples=None, n_classes=None):
    S = SCENARIOS[name]
    if name == "small":
        return _digits_like()
    return _data(
        n_samples or S["n_samples"], n_classes or S["n_classes"], S["n_features"]
    )


def timing_worker(spec):
    """Time every method side by side in this process (one thread count).

    Each scenario: one warm-up fit of every method, then ``repeats`` rounds,
    each fitting every method once in an order rotated by one each round;
    the medians of seconds are reported. Then the per-epoch growth in rows
    and in classes of the estimator and the plain fused loop.
    """
    import torch
    from threadpoolctl import threadpool_limits

    threads = spec["threads"]
    torch.set_num_threads(threads)
    threadpool_limits(threads)
    warnings.simplefilter("ignore")
    out = dict(threads=threads, scenarios={}, growth=[])
    methods = list(SIDE_BY_SIDE)
    for name in spec["scenarios"]:
        S = SCENARIOS[name]
        X, y, proba = _scenario_data(name)
        cfg = dict(S, device="cpu", threads=threads)
        for method in methods:  # warm-up: imports, kernels, allocator
            METHODS[method](X[:512], y[:512], proba[:512], {**cfg, "epochs": 1})
        seconds = {m: [] for m in methods}
        for r in range(spec["repeats"]):
            order = methods[r % len(methods) :] + methods[: r % len(methods)]
            for method in order:
                start = time.perf_counter()
                METHODS[method](X, y, proba, cfg)
                seconds[method].append(time.perf_counter() - start)
        rows = len(X) * S["epochs"]
        out["scenarios"][name] = {
            m: dict(
                seconds=v,
                median_seconds=float(np.median(v)),
                rows_per_second=rows / float(np.median(v)),
            )
            for m, v in seconds.items()
        }
    for axis, values in spec.get("growth", {}).items():
        for value in values:
            n = value if axis == "n_samples" else spec["growth_n"]
            k = value if axis == "n_classes" else SCENARIOS["large"]["n_classes"]
            X, y, proba = _data(n, k, SCENARIOS["large"]["n_features"])
            cfg = dict(SCENARIOS["large"], epochs=2, device="cpu", threads=threads)
            for method in ("distilled", "plain_kd_fused"):
                times = []
                for _ in range(spec["growth_repeats"]):
                    start = time.perf_counter()
                    METHODS[method](X, y, proba, cfg)
                    times.append((time.perf_counter() - start) / cfg["epochs"])
                out["growth"].append(
                    dict(
                        axis=axis,
                        n_samples=n,
                        n_classes=k,
                        method=method,
                        seconds_per_epoch=float(np.median(times)),
                    )
                )
    return out


def _run_python(args, threads, timeout):
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.speed", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def side_by_side(
    threads=(1, 2),
    repeats=5,
    memory_rows=500_000,
    growth_n=(12_500, 25_000, 50_000),
    growth_classes=(5, 20, 80, 320),
    checkpoint=None,
):
    """The whole experiment; returns a JSON-ready dict."""
    from .stats import loglog_slope

    results = dict(timing={}, memory={}, slopes=[])
    for t in threads:
        spec = dict(
            threads=t,
            repeats=repeats,
            scenarios=list(SCENARIOS),
            growth={}
            if t != 1
            else {"n_samples": list(growth_n), "n_classes": list(growth_classes)},
            growth_n=25_000,
            growth_repeats=3,
        )
        results["timing"][t] = _run_python(
            ["--timing-worker", json.dumps(spec)], t, timeout=3600
        )
        if checkpoint is not None:  # a long run keeps what it measured
            with open(checkpoint, "w") as f:
                json.dump(results, f, indent=1)
    growth = results["timing"][threads[0]]["growth"]
    for axis in ("n_samples", "n_classes"):
        for method in ("distilled", "plain_kd_fused"):
            pts = [g for g in growth if g["axis"] == axis and g["method"] == method]
            if len(pts) >= 2:
                fit = loglog_slope(
                    [g[axis] for g in pts], [g["seconds_per_epoch"] for g in pts]
                )
                results["slopes"].append(dict(axis=axis, method=method, **fit))
    L = SCENARIOS["large"]
    for method in ("plain_kd_fused", "distilled"):
        cfg = dict(
            experiment="speed",
            method=method,
            n_samples=memory_rows,
            n_classes=L["n_classes"],
            n_features=L["n_features"],
            hidden=L["hidden"],
            batch_size=L["batch_size"],
            epochs=1,
            device="cpu",
            threads=1,
        )
        results["memory"][method] = _run_python([json.dumps(cfg)], 1, timeout=3600)
    return results


def ratio_table(results):
    """Markdown tables: rows/s per method, then the ratios, per scenario."""
    timing = results["timing"]
    threads = sorted(timing, key=int)
    lines = []
    for name, S in SCENARIOS.items():
        lines += [
            f"**{name}**: {S['n_samples']:,} x {S['n_features']}, "
            f"MLP {S['n_features']}-"
            + "-".join(map(str, S["hidden"]))
            + f"-{S['n_classes']}, "
            f"batch {S['batch_size']}, {S['epochs']} epochs; "
            "rows/s (median)",
            "",
            "| Run | " + " | ".join(f"{t} thread(s)" for t in threads) + " |",
            "|---|" + "---|" * len(threads),
        ]
        for method, label in SIDE_BY_SIDE.items():
            cells = [
                f"{timing[t]['scenarios'][name][method]['rows_per_second']:,.0f}"
                for t in threads
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "| Ratio of throughput | "
            + " | ".join(f"{t} thread(s)" for t in threads)
            + " |",
            "|---|" + "---|" * len(threads),
        ]
        for a, b in RATIOS:
            cells = []
            for t in threads:
                sc = timing[t]["scenarios"][name]
                cells.append(
                    f"{sc[a]['rows_per_second'] / sc[b]['rows_per_second']:.2f}x"
                )
            lines.append(
                f"| {SIDE_BY_SIDE[a]} / {SIDE_BY_SIDE[b]} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    lines += [
        "**Time per epoch against rows and classes** (log-log slope, 95 % CI)",
        "",
        "| Axis | Method | Slope | CI |",
        "|---|---|---|---|",
    ]
    for s in results["slopes"]:
        lines.append(
            f"| {s['axis']} | {SIDE_BY_SIDE[s['method']]} | "
            f"{s['slope']:.2f} | [{s['low']:.2f}, {s['high']:.2f}] |"
        )
    mem = results["memory"]
    if mem:
        lines += [
            "",
            "**Peak memory of one epoch on "
            f"{_memory_rows(results):,} x {SCENARIOS['large']['n_features']}"
            "** (resident set added by the fit, MB)",
            "",
            "| Run | Added peak (MB) | Process peak (MB) |",
            "|---|---|---|",
        ]
        for method, m in mem.items():
            lines.append(
                f"| {SIDE_BY_SIDE[method]} | {m['peak_rss_delta_mb']:.0f} | "
                f"{m['peak_rss_mb']:.0f} |"
            )
        if {"distilled", "plain_kd_fused"} <= set(mem):
            r = mem["distilled"]["peak_rss_delta_mb"] / max(
                mem["plain_kd_fused"]["peak_rss_delta_mb"], 1e-9
            )
            lines.append(f"| Ratio (DistilledClassifier / plain loop) | {r:.2f}x | |")
    return "\n".join(lines) + "\n"


def _memory_rows(results):
    return next(iter(results["memory"].values())).get("n_samples", 500_000)


def figure(results):
    """Throughput per method and scenario, and the growth per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timing = results["timing"]
    threads = sorted(timing, key=int)
    fig, axes = plt.subplots(
        1, 3, figsize=(15, 4.8), gridspec_kw=dict(width_ratios=[1, 1, 1.1])
    )
    methods = list(SIDE_BY_SIDE)
    width = 0.8 / len(threads)
    for ax, name in zip(axes[:2], SCENARIOS):
        for j, t in enumerate(threads):
            sc = timing[t]["scenarios"][name]
            vals = [sc[m]["rows_per_second"] / 1e3 for m in methods]
            pos = np.arange(len(methods)) + (j - (len(threads) - 1) / 2) * width
            ax.barh(pos, vals, height=width, label=f"{t} thread(s)")
        ax.set_yticks(np.arange(len(methods)), [SIDE_BY_SIDE[m] for m in methods])
        ax.invert_yaxis()
        ax.set_xlabel("thousand rows per second (median)")
        S = SCENARIOS[name]
        ax.set_title(f"{S['n_samples']:,} x {S['n_features']}, {S['epochs']} epochs")
        ax.set_xlim(left=0)
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    axes[1].set_yticklabels([])
    ax = axes[2]
    growth = timing[threads[0]]["growth"]
    for axis, marker in (("n_samples", "o"), ("n_classes", "s")):
        for method, style in (("distilled", "-"), ("plain_kd_fused", "--")):
            pts = [g for g in growth if g["axis"] == axis and g["method"] == method]
            if not pts:
                continue
            x = np.array([g[axis] for g in pts], dtype=float)
            x = x / x[0]
            ax.plot(
                x,
                [g["seconds_per_epoch"] for g in pts],
                style,
                marker=marker,
                label=(
                    f"{SIDE_BY_SIDE[method].split(',')[0]}, "
                    f"vs {axis} (x{pts[0][axis]:,})"
                ),
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("rows or classes, relative to the smallest")
    ax.set_ylabel("seconds per epoch")
    ax.set_title(f"Growth at {threads[0]} thread(s)")
    if ax.get_lines():
        ax.legend(fontsize=7, loc="upper left")
    else:
        ax.text(
            0.5, 0.5, "not measured in this run", ha="center", transform=ax.transAxes
        )
    fig.tight_layout()
    return fig


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="benchmarks/results/speed")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-rows", type=int, default=500_000)
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    results = side_by_side(
        checkpoint=os.path.join(args.output, "speed.partial.json"),
        threads=tuple(args.threads),
        repeats=args.repeats,
        memory_rows=args.memory_rows,
    )
    for m in results["memory"].values():
        m["n_samples"] = args.memory_rows
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "speed.json"), "w") as f:
        json.dump(results, f, indent=1)
    table = ratio_table(results)
    with open(os.path.join(args.output, "speed.md"), "w") as f:
        f.write(table)
    figure(results).savefig(os.path.join(args.output, "speed.png"), dpi=110)
    print(table)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--timing-worker":
        print(json.dumps(timing_worker(json.loads(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1].startswith("{"):
        print(json.dumps(worker(json.loads(sys.argv[1]))))
    else:
        main()
