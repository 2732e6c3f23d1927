"""Tests of sklearn_kd.knowledge: the decomposition and the knowledge levels."""

from __future__ import annotations

import numpy as np
import pytest
import strategies as kst
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from references import true_entries
from sklearn.utils import Bunch

from sklearn_kd.diagnostics import teacher_diagnostics
from sklearn_kd.knowledge import (
    KNOWLEDGE_LEVELS,
    ROW_SUM_ATOL,
    apply_knowledge,
    compose_teacher,
    domain_shuffled_teacher,
    domain_teacher,
    fit_knowledge,
    instance_shuffled_teacher,
    instance_teacher,
    non_target_shape,
    true_class_confidence,
    universe_teacher,
)
from sklearn_kd.losses import distillation_loss, label_smoothing_loss

ATOL = 1e-12  # sums of at most 50 float64 probabilities


teachers = kst.labelled_teachers


def off_target(y, K):
    return ~np.eye(K, dtype=bool)[y]


# --------------------------------------------------------------------------
# decomposition
# --------------------------------------------------------------------------
@given(batch=teachers())
def test_decomposition_round_trips(batch):
    q, y = batch
    n, K = q.shape
    confidence = true_class_confidence(q, y)
    shape = non_target_shape(q, y)
    assert_array_equal(confidence, true_entries(q, y))
    assert_array_equal(true_entries(shape, y), 0.0)
    assert_allclose(shape.sum(axis=1), 1.0, atol=ATOL)
    assert np.all(shape >= 0)
    no_rest = np.where(off_target(y, K), q, 0.0).sum(axis=1) == 0
    assert_allclose(shape[no_rest][off_target(y, K)[no_rest]], 1.0 / (K - 1))
    assert_allclose(compose_teacher(confidence, shape, y), q, rtol=1e-9, atol=ATOL)


# --------------------------------------------------------------------------
# knowledge levels
# --------------------------------------------------------------------------
@given(batch=teachers(), level=st.sampled_from(KNOWLEDGE_LEVELS))
def test_every_level_gives_probability_rows(batch, level):
    q, y = batch
    q_before, y_before = q.copy(), y.copy()
    q.setflags(write=False)
    y.setflags(write=False)
    teacher = apply_knowledge(q, y, level, random_state=0)
    assert teacher.shape == q.shape
    assert teacher.dtype == np.float64
    assert np.all(teacher >= 0)
    assert_allclose(teacher.sum(axis=1), 1.0, atol=ATOL)
    # inputs are not modified, and the output is never the input
    assert_array_equal(q, q_before)
    assert_array_equal(y, y_before)
    assert not np.shares_memory(teacher, q)


@given(batch=teachers())
def test_full_is_the_identity(batch):
    q, y = batch
    assert_array_equal(apply_knowledge(q, y, "full"), q)


@given(batch=teachers())
def test_universe_has_one_confidence_and_uniform_rest(batch):
    q, y = batch
    n, K = q.shape
    teacher = apply_knowledge(q, y, "universe")
    q_bar = true_entries(q, y).mean()
    assert_allclose(true_entries(teacher, y), q_bar, rtol=1e-12, atol=ATOL)
    assert_allclose(teacher[off_target(y, K)], (1 - q_bar) / (K - 1), atol=ATOL)
    assert_array_equal(teacher, universe_teacher(q, y))


@given(batch=teachers())
def test_instance_keeps_each_true_class_confidence_exactly(batch):
    q, y = batch
    n, K = q.shape
    teacher = apply_knowledge(q, y, "instance")
    assert_array_equal(true_entries(teacher, y), true_entries(q, y))
    rest = (1 - true_entries(q, y))[:, None] / (K - 1)
    assert_allclose(
        teacher[off_target(y, K)], np.broadcast_to(rest, (n, K))[off_target(y, K)]
    )
    assert_array_equal(teacher, instance_teacher(q, y))


@given(batch=teachers())
def test_domain_gives_identical_rows_within_a_class(batch):
    q, y = batch
    n, K = q.shape
    teacher = apply_knowledge(q, y, "domain")
    q_bar = true_entries(q, y).mean()
    assert_allclose(true_entries(teacher, y), q_bar, rtol=1e-12, atol=ATOL)
    for c in np.unique(y):
        rows = teacher[y == c]
        assert_array_equal(rows, np.broadcast_to(rows[0], rows.shape))
        # reference: mean over the class rows of the renormalised rest
        rest = q[y == c].copy()
        rest[:, c] = 0.0
        mass = rest.sum(axis=1, keepdims=True)
        shapes = np.where(mass > 0, rest / np.where(mass > 0, mass, 1.0), 1.0 / (K - 1))
        shapes[:, c] = 0.0
        assert_allclose(
            rows[0],
            (1 - q_bar) * shapes.mean(axis=0) + q_bar * (np.arange(K) == c),
            rtol=1e-9,
            atol=ATOL,
        )
    assert_array_equal(teacher, domain_teacher(q, y))


@given(batch=teachers())
def test_fit_knowledge_estimates_training_constants(batch):
    q, y = batch
    n, K = q.shape
    params = fit_knowledge(q, y, K)
    assert set(params) >= {"confidence", "class_shapes"}
    assert isinstance(params.confidence, float)
    assert_allclose(params.confidence, true_entries(q, y).mean(), rtol=1e-12)
    assert params.class_shapes.shape == (K, K)
    assert_array_equal(np.diag(params.class_shapes), 0.0)
    assert_allclose(params.class_shapes.sum(axis=1), 1.0, atol=ATOL)
    assert_array_equal(params.class_counts, np.bincount(y, minlength=K))
    unseen = params.class_counts == 0
    assert_allclose(params.class_shapes[unseen].sum(axis=1), 1.0)
    assert np.all(params.class_shapes[unseen][~np.eye(K, dtype=bool)[unseen]] > 0)
    for level in KNOWLEDGE_LEVELS:
        assert_array_equal(
            apply_knowledge(q, y, level, params, random_state=0),
            apply_knowledge(q, y, level, random_state=0),
        )


def test_apply_knowledge_uses_given_params_not_the_new_rows():
    train = np.array([[0.8, 0.2, 0.0], [0.6, 0.1, 0.3], [0.1, 0.7, 0.2]])
    params = fit_knowledge(train, [0, 0, 1], 3)
    other = np.array([[0.2, 0.4, 0.4], [0.3, 0.3, 0.4]])
    universe = apply_knowledge(other, [0, 1], "universe", params)
    assert_allclose(universe[:, [0, 1]].diagonal(), params.confidence)
    domain = apply_knowledge(other, [0, 1], "domain", params)
    assert_allclose(domain[0], [0.7, 0.3 * 0.625, 0.3 * 0.375])
    assert_allclose(domain[1], [0.1, 0.7, 0.2])


def test_explicit_confidence_and_class_shapes():
    q = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    y = np.array([0, 2])
    assert_allclose(
        universe_teacher(q, y, confidence=0.9),
        [[0.9, 0.05, 0.05], [0.05, 0.05, 0.9]],
    )
    shapes = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.25, 0.75, 0.0]])
    assert_allclose(
        domain_teacher(q, y, confidence=0.6, class_shapes=shapes),
        [[0.6, 0.4, 0.0], [0.1, 0.3, 0.6]],
    )


def test_lists_are_accepted():
    teacher = apply_knowledge([[0.5, 0.5], [0.1, 0.9]], [0, 1], "instance")
    assert_allclose(teacher, [[0.5, 0.5], [0.1, 0.9]])


@given(batch=kst.kd_batches(max_abs_logit=5.0), alpha=kst.alphas())
def test_universe_teacher_at_T1_is_label_smoothing(batch, alpha):
    # KD gradient at T = 1: p - [(1 - alpha) y + alpha q]. With the universe
    # teacher the target is 1 - alpha (1 - qbar) on c and
    # alpha (1 - qbar) / (K - 1) elsewhere; label smoothing's is
    # 1 - eps (K - 1) / K and eps / K. They match for
    # eps = alpha K (1 - qbar) / (K - 1), which is <= alpha when y is the
    # teacher's argmax (qbar >= 1 / K).
    z, q, _ = batch
    y = np.argmax(q, axis=1)
    n, K = q.shape
    teacher = apply_knowledge(q, y, "universe", fit_knowledge(q, y, K))
    q_bar = true_entries(q, y).mean()
    eps = alpha * K * (1 - q_bar) / (K - 1)
    assert eps <= alpha + 1e-12
    eps = min(eps, 1.0)

    z_kd = torch.tensor(z, requires_grad=True)
    distillation_loss(
        z_kd, torch.tensor(teacher), torch.as_tensor(y), temperature=1.0, alpha=alpha
    ).backward()
    z_ls = torch.tensor(z, requires_grad=True)
    label_smoothing_loss(z_ls, torch.as_tensor(y), epsilon=eps).backward()
    assert_allclose(z_kd.grad.numpy(), z_ls.grad.numpy(), rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------
# placebo teachers: the marginals are kept, the link is destroyed
# --------------------------------------------------------------------------
def class_profiles(teacher, y, K):
    """The one non-target shape of each class present (rows of a class are
    identical for the domain teachers)."""
    return {c: non_target_shape(teacher[y == c][:1], [c])[0] for c in np.unique(y)}


@given(batch=teachers(), seed=st.integers(0, 2**31 - 1))
def test_instance_shuffled_keeps_each_class_confidence_distribution(batch, seed):
    q, y = batch
    n, K = q.shape
    teacher = instance_shuffled_teacher(q, y, random_state=seed)
    confidence = true_entries(teacher, y)
    for c in np.unique(y):
        assert_array_equal(
            np.sort(confidence[y == c]), np.sort(true_entries(q, y)[y == c])
        )
    # the rest is uniform, as in the instance teacher
    rest = (1 - confidence)[:, None] / (K - 1)
    assert_allclose(
        teacher[off_target(y, K)], np.broadcast_to(rest, (n, K))[off_target(y, K)]
    )
    assert_allclose(teacher.sum(axis=1), 1.0, atol=ATOL)
    # reproducible; the estimator's level is the same function
    assert_array_equal(teacher, instance_shuffled_teacher(q, y, random_state=seed))
    assert_array_equal(
        teacher, apply_knowledge(q, y, "instance_shuffled", random_state=seed)
    )


@pytest.mark.parametrize("seed", range(5))
def test_instance_shuffled_breaks_the_link_between_row_and_confidence(seed):
    rng = np.random.RandomState(seed)
    n, K = 3000, 3
    q = rng.dirichlet(np.ones(K), size=n)
    y = rng.randint(K, size=n)
    original = true_entries(q, y)
    shuffled = true_entries(instance_shuffled_teacher(q, y, random_state=seed), y)
    for c in range(K):
        r = np.corrcoef(original[y == c], shuffled[y == c])[0, 1]
        # |r| of independent rows: sd about 1 / sqrt(1000) = 0.03
        assert abs(r) < 0.15
    assert np.mean(original == shuffled) < 0.01
    other = instance_shuffled_teacher(q, y, random_state=seed + 100)
    assert not np.array_equal(true_entries(other, y), shuffled)


@given(batch=teachers(), seed=st.integers(0, 2**31 - 1))
def test_domain_shuffled_keeps_the_profiles_and_moves_them(batch, seed):
    q, y = batch
    n, K = q.shape
    teacher = domain_shuffled_teacher(q, y, random_state=seed)
    q_bar = true_entries(q, y).mean()
    assert_allclose(true_entries(teacher, y), q_bar, rtol=1e-12, atol=ATOL)
    assert_allclose(teacher.sum(axis=1), 1.0, atol=ATOL)
    assert_array_equal(
        teacher, apply_knowledge(q, y, "domain_shuffled", random_state=seed)
    )
    for c in np.unique(y):
        rows = teacher[y == c]
        assert_array_equal(rows, np.broadcast_to(rows[0], rows.shape))
    # the shuffled profile of each class holds the numbers of some class's
    # true profile: as far from uniform as before
    R = fit_knowledge(q, y, K).class_shapes
    shuffled = class_profiles(teacher, y, K)
    true_rows = {tuple(np.round(np.sort(row), 10)) for row in R}
    for row in shuffled.values():
        assert tuple(np.round(np.sort(row), 10)) in true_rows


@pytest.mark.parametrize("seed", range(5))
def test_domain_shuffled_gives_no_class_its_own_relations(seed):
    rng = np.random.RandomState(seed)
    n, K = 400, 6
    q = rng.dirichlet(np.ones(K), size=n)
    y = np.arange(n) % K
    R = fit_knowledge(q, y, K).class_shapes
    shuffled = class_profiles(domain_shuffled_teacher(q, y, random_state=seed), y, K)
    # recover the permutation from the (distinct) profiles: R'[c] = R[pi(c)][pi]
    pi = np.array(
        [
            next(
                j for j in range(K) if np.allclose(np.sort(R[j]), np.sort(shuffled[c]))
            )
            for c in range(K)
        ]
    )
    assert sorted(pi.tolist()) == list(range(K))
    assert np.all(pi != np.arange(K))
    for c in range(K):
        assert_allclose(shuffled[c], R[pi[c]][pi], atol=1e-12)
        assert not np.allclose(shuffled[c], R[c])


@pytest.mark.parametrize(
    "level, placebo", [("instance", "instance_shuffled"), ("domain", "domain_shuffled")]
)
def test_estimator_placebo_is_the_placebo_teacher_drawn_from_random_state(
    level, placebo
):
    from sklearn.datasets import make_classification

    from sklearn_kd import DistilledClassifier
    from sklearn_kd.losses import soften

    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=4, random_state=0
    )
    proba = np.random.RandomState(1).dirichlet(np.ones(4), size=len(y))
    fast = dict(max_epochs=4, hidden_layer_sizes=(8,), lr=1e-2, temperature=2.0)
    a = DistilledClassifier(knowledge=placebo, random_state=3, **fast)
    a.fit(X, y, teacher_proba=proba)
    b = DistilledClassifier(knowledge=placebo, random_state=3, **fast)
    b.fit(X, y, teacher_proba=proba)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # the estimator draws the permutation from random_state, after softening
    seed = np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    q_T = soften(proba, 2.0).numpy()
    target = apply_knowledge(
        q_T, y, placebo, fit_knowledge(q_T, y, 4), random_state=seed
    )
    # soften(target ** T) at T gives the target back: a full student of it
    unsoftened = target**2.0 / (target**2.0).sum(axis=1, keepdims=True)
    c = DistilledClassifier(random_state=3, **fast).fit(X, y, teacher_proba=unsoftened)
    assert_allclose(a.predict_proba(X), c.predict_proba(X), atol=1e-5)
    d = DistilledClassifier(knowledge=level, random_state=3, **fast)
    d.fit(X, y, teacher_proba=proba)
    assert not np.allclose(a.predict_proba(X), d.predict_proba(X), atol=1e-5)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------
GOOD_Q = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
GOOD_Y = np.array([0, 1])


@pytest.mark.parametrize(
    "proba, y, match",
    [
        (GOOD_Q, [0], r"y must be a 1-D array of 2 class indices.*got shape \(1,\)"),
        (GOOD_Q, [[0, 1]], r"y must be a 1-D array"),
        (GOOD_Q, [0, 3], r"y must hold class indices in \[0, 3\).*got 3"),
        (GOOD_Q, [-1, 0], r"y must hold class indices in \[0, 3\).*got -1"),
        (GOOD_Q, [0.5, 1.0], r"y must hold integer class indices.*non-integer"),
        (GOOD_Q, ["a", "b"], r"y must hold integer class indices"),
        (GOOD_Q[0], [0], r"proba"),
        (GOOD_Q[:, :1] / GOOD_Q[:, :1], GOOD_Y, r"proba must have at least 2"),
        (GOOD_Q * 2, GOOD_Y, r"Each row of proba must sum to 1 \(absolute tol"),
        ([[1.2, -0.2], [0.5, 0.5]], GOOD_Y, r"proba must be non-negative"),
        ([[np.nan, 1.0], [0.5, 0.5]], GOOD_Y, r"proba.*NaN"),
    ],
)
@pytest.mark.parametrize(
    "func",
    [
        true_class_confidence,
        non_target_shape,
        universe_teacher,
        domain_teacher,
        instance_teacher,
        fit_knowledge,
        lambda q, y: apply_knowledge(q, y, "domain"),
        lambda q, y: apply_knowledge(q, y, "full"),
        teacher_diagnostics,
    ],
)
def test_invalid_inputs_raise_naming_the_parameter(func, proba, y, match):
    with pytest.raises(ValueError, match=match):
        func(proba, y)


def test_row_sum_tolerance_is_documented_value():
    nearly = GOOD_Q + np.array([[ROW_SUM_ATOL / 2, 0, 0], [0, 0, 0]])
    apply_knowledge(nearly, GOOD_Y, "instance")
    with pytest.raises(ValueError, match="sum to 1"):
        apply_knowledge(GOOD_Q + 2 * ROW_SUM_ATOL, GOOD_Y, "instance")


def test_unknown_level_raises():
    with pytest.raises(ValueError, match=r"level must be one of .*'full'.*got 'all'"):
        apply_knowledge(GOOD_Q, GOOD_Y, "all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"confidence": 1.5}, r"confidence must be a float in \[0, 1\].*1\.5"),
        ({"confidence": "high"}, r"confidence must be a float"),
        ({"class_shapes": np.eye(3)}, r"class_shapes must be zero on the diagonal"),
        ({"class_shapes": np.ones((2, 2)) / 2}, r"class_shapes must have 3 columns"),
        ({"class_shapes": np.full((2, 3), 1 / 3)}, r"class_shapes must have shape"),
    ],
)
def test_invalid_domain_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        domain_teacher(GOOD_Q, GOOD_Y, **kwargs)


def test_invalid_params_and_n_classes_raise():
    with pytest.raises(ValueError, match=r"n_classes must be None or equal to.*3"):
        fit_knowledge(GOOD_Q, GOOD_Y, 4)
    with pytest.raises(ValueError, match="params must be None or the Bunch"):
        apply_knowledge(GOOD_Q, GOOD_Y, "universe", {"confidence": 0.5})
    bad = Bunch(confidence=0.5, class_shapes=np.full((4, 4), 1 / 3))
    with pytest.raises(ValueError, match="class_shapes"):
        apply_knowledge(GOOD_Q, GOOD_Y, "domain", bad)


def test_compose_teacher_validates():
    shape = np.array([[0.0, 0.5, 0.5]])
    with pytest.raises(ValueError, match=r"confidence must have shape \(1,\)"):
        compose_teacher([0.5, 0.5], shape, [0])
    with pytest.raises(ValueError, match=r"confidence must hold values in \[0, 1\]"):
        compose_teacher([1.5], shape, [0])
    with pytest.raises(ValueError, match="shape must be zero at the true class"):
        compose_teacher([0.5], shape, [1])


NUMBER = r"(np\.float64\()?"  # NumPy 2 writes the repr of a scalar


def test_tolerance_boundaries_and_messages_of_the_parts():
    # A diagonal or true-class entry of exactly ROW_SUM_ATOL is accepted (and
    # kept), a larger one is rejected with its value and its row.
    shapes = np.full((3, 3), 0.5)
    np.fill_diagonal(shapes, 0.0)
    shapes[0] = [ROW_SUM_ATOL, 0.5, 0.5 - ROW_SUM_ATOL]
    domain_teacher(GOOD_Q, GOOD_Y, class_shapes=shapes)
    shapes[0] = [2 * ROW_SUM_ATOL, 0.5, 0.5 - 2 * ROW_SUM_ATOL]
    diagonal = "zero on the diagonal .*largest diagonal entry of " + NUMBER + "0.0002"
    with pytest.raises(ValueError, match=diagonal):
        domain_teacher(GOOD_Q, GOOD_Y, class_shapes=shapes)
    shape = np.array([[0.5, 0.5, 0.0], [ROW_SUM_ATOL, 0.0, 1.0 - ROW_SUM_ATOL]])
    composed = compose_teacher([0.5, 0.25], shape, [2, 1])
    expected = [0.75 * ROW_SUM_ATOL, 0.25, 0.75 * (1 - ROW_SUM_ATOL)]
    assert_allclose(composed[1], expected)
    shape[0] = [0.4, 0.4, 0.2]
    at_target = "zero at the true class .*got " + NUMBER + r"0\.2\)? at row 0"
    with pytest.raises(ValueError, match=at_target):
        compose_teacher([0.5, 0.25], shape, [2, 1])
    bounds = r"confidence must hold values in \[0, 1\], got values in \["
    bounds += NUMBER + r"-0\.5\)?, " + NUMBER + r"0\.25\)?\]"
    with pytest.raises(ValueError, match=bounds):
        compose_teacher([-0.5, 0.25], shape, [0, 1])


def test_compose_teacher_accepts_any_real_dtype():
    shape = np.array([[0.0, 0.25, 0.75], [0.5, 0.0, 0.5]], dtype=np.float32)
    composed = compose_teacher(np.array([0.5, 1.0], dtype=np.float32), shape, [0, 1])
    assert composed.dtype == np.float64
    assert_allclose(composed, [[0.5, 0.125, 0.375], [0.0, 1.0, 0.0]], rtol=1e-7)
    integers = compose_teacher([1, 0], np.array([[0, 1, 0], [1, 0, 0]]), [0, 1])
    assert integers.dtype == np.float64
    assert_array_equal(integers, [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


def test_a_true_class_entry_of_exactly_the_tolerance_is_accepted():
    shape = np.array([[0.5, 0.5, 0.0], [ROW_SUM_ATOL, 0.0, 1.0 - ROW_SUM_ATOL]])
    composed = compose_teacher([0.5, 0.25], shape, [2, 0])
    assert_allclose(composed[1], [0.25, 0.0, 0.75 * (1 - ROW_SUM_ATOL)])


def test_messages_name_the_parameter_and_the_offending_row():
    with pytest.raises(ValueError, match=r"^Each row of shape must sum to 1"):
        compose_teacher([0.5], [[0.0, 0.5, 0.6]], [0])
    shape = np.array([[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    with pytest.raises(ValueError, match=r"0\.5\)? at row 1\.$"):
        compose_teacher([0.5, 0.5], shape, [0, 1])
    # a missing value is reported as out of range, not as a TypeError
    with pytest.raises(ValueError, match=r"^confidence must hold values in \[0, 1\]"):
        compose_teacher([0.5, None], shape, [0, 2])
    with pytest.raises(
        ValueError,
        match=r"^class_shapes must be zero on the diagonal \(row c is the shape "
        r"over the classes other than c\), got a largest diagonal entry of ",
    ):
        domain_teacher(GOOD_Q, GOOD_Y, class_shapes=np.eye(3))


@pytest.mark.parametrize("teacher", [universe_teacher, domain_teacher])
def test_confidence_may_be_none_and_the_message_says_so(teacher):
    with pytest.raises(
        ValueError,
        match=r"^confidence must be a float in \[0, 1\] or None, got 1\.5\.$",
    ):
        teacher(GOOD_Q, GOOD_Y, confidence=1.5)


def test_fit_knowledge_refuses_empty_rows_and_non_integer_n_classes():
    with pytest.raises(
        ValueError, match=r"^proba must have at least one row to fit, got 0\.$"
    ):
        fit_knowledge(np.empty((0, 3)), np.empty(0, dtype=int))
    for n_classes in (3.0, np.float64(3)):
        with pytest.raises(ValueError, match=r"n_classes must be None or equal"):
            fit_knowledge(GOOD_Q, GOOD_Y, n_classes)


def test_bad_params_message_names_what_was_given():
    with pytest.raises(
        ValueError,
        match=r"^params must be None or the Bunch returned by fit_knowledge "
        r"\(with keys 'confidence' and 'class_shapes'\), got dict\.$",
    ):
        apply_knowledge(GOOD_Q, GOOD_Y, "domain", {})


@given(batch=teachers())
def test_class_relation_information_is_zero_for_uniform_rest_and_non_negative(batch):
    q, y = batch
    n, K = q.shape
    from sklearn_kd.knowledge import class_relation_information

    info = class_relation_information(q, y, groups=np.arange(K) % 2)
    seen = np.bincount(y, minlength=K) > 0
    assert np.all(info.per_class[seen] >= -1e-12)
    assert np.all(np.isnan(info.per_class[~seen]))
    flat = class_relation_information(instance_teacher(q, y), y)
    assert_allclose(flat.per_class[seen], 0.0, atol=1e-12)
    # the placebo moves the profiles, it does not flatten them
    shuffled = domain_shuffled_teacher(q, y, random_state=0)
    domain = domain_teacher(q, y)
    if seen.all():
        assert_allclose(
            np.sort(class_relation_information(shuffled, y).per_class),
            np.sort(class_relation_information(domain, y).per_class),
            atol=1e-9,
        )


def test_class_relation_information_groups_must_name_each_class():
    from sklearn_kd.knowledge import class_relation_information

    with pytest.raises(ValueError, match=r"groups must have shape \(3,\)"):
        class_relation_information(GOOD_Q, GOOD_Y, groups=[0, 1])


def test_instance_beats_its_placebo_through_the_estimator():
    """With the exact Bayes teacher, the row-specific confidences carry
    information the shuffled ones do not: instance - instance_shuffled > 0
    (the benchmark measures about +2 pp; here the mean of three seeds)."""
    from sklearn_kd import DistilledClassifier
    from sklearn_kd.datasets import make_hierarchical_classification

    X, y, info = make_hierarchical_classification(
        5000, n_features=30, n_superclasses=4, n_subclasses=5, hard_fraction=0.5,
        hard_noise=1.0, class_similarity=0.5, bayes_accuracy=0.8, random_state=0,
        return_oracle=True,
    )
    train, test = slice(0, 1000), slice(1000, None)
    gaps = []
    for seed in range(3):
        accuracy = {}
        for level in ("instance", "instance_shuffled"):
            clf = DistilledClassifier(
                architecture="mlp", hidden_layer_sizes=(), max_epochs=40,
                batch_size=256, lr=1e-2, temperature=1.0, alpha=0.9,
                knowledge=level, random_state=seed,
            )
            clf.fit(X[train], y[train], teacher_proba=info.bayes_proba[train])
            accuracy[level] = clf.score(X[test], y[test])
        gaps.append(accuracy["instance"] - accuracy["instance_shuffled"])
    assert np.mean(gaps) > 0
