"""Properties the math guarantees, checked on hypothesis-drawn inputs: each fails if an op is wrong."""

import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinybert.autograd as ag
from devices import host, not_on_the_pretend_gpu
from strategies import arrays, floats, shapes
from tinybert.autograd import Tensor

rows = shapes(min_dims=1).flatmap(lambda shape: arrays(shape, floats(-20, 20)))


@given(rows)
def test_softmax_rows_sum_to_one(values):
    out = ag.softmax(Tensor(values, dtype=np.float64)).numpy()
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all(out >= 0)


@given(rows, floats(-50, 50))
def test_softmax_is_unchanged_by_adding_a_constant_to_a_row(values, constant):
    x = Tensor(values, dtype=np.float64)
    np.testing.assert_allclose(ag.softmax(x + constant).numpy(), ag.softmax(x).numpy(), atol=1e-12)


@given(rows)
def test_log_softmax_is_the_log_of_softmax(values):
    x = Tensor(values, dtype=np.float64)
    np.testing.assert_allclose(ag.log_softmax(x).numpy(), np.log(ag.softmax(x).numpy()), atol=1e-10)


@given(shapes(max_dims=2).flatmap(lambda leading: arrays(leading + (8,), floats(-10, 10))))
def test_layer_norm_rows_have_mean_zero_and_variance_one(values):
    values = values + np.linspace(0, 1, 8)  # no constant rows: their variance is 0, not 1
    out = ag.layer_norm(Tensor(values, dtype=np.float64), eps=0.0).numpy()
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-9)
    np.testing.assert_allclose(out.var(axis=-1), 1.0, rtol=1e-9)


@given(st.data())
def test_ignored_cross_entropy_positions_get_zero_gradient_and_do_not_move_the_loss(data):
    logits = data.draw(arrays((6, 4)))
    targets = np.array(data.draw(st.lists(st.integers(0, 3) | st.just(-100), min_size=6, max_size=6)))
    ignored = targets == -100
    x = Tensor(logits, requires_grad=True, dtype=np.float64)
    loss = ag.cross_entropy(x, targets)
    loss.backward()
    assert np.all(x.grad[ignored] == 0.0)
    changed = logits.copy()
    changed[ignored] += 10.0
    assert ag.cross_entropy(Tensor(changed, dtype=np.float64), targets).item() == loss.item()


def test_cross_entropy_mean_over_counted_positions_only():
    logits = np.random.default_rng(0).standard_normal((4, 3))
    targets = np.array([2, -100, 0, -100])
    per_position = ag.cross_entropy(Tensor(logits, dtype=np.float64), targets, reduction="none").numpy()
    mean = ag.cross_entropy(Tensor(logits, dtype=np.float64), targets).item()
    np.testing.assert_allclose(mean, per_position[[0, 2]].mean())


def test_an_ignored_position_whose_logits_are_infinite_adds_nothing_not_nan():
    logits = np.array([[1.0, 2.0, 0.5], [np.inf, -np.inf, np.inf], [0.1, 0.2, 0.3]])  # row 1: anything goes
    x = Tensor(logits, requires_grad=True, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # the softmax of row 1 is inf - inf, computed and then left out
        loss = ag.cross_entropy(x, np.array([1, -100, 2]))
        loss.backward()
    finite = ag.cross_entropy(Tensor(logits[[0, 2]], dtype=np.float64), np.array([1, 2])).item()
    assert loss.item() == finite  # the mean of rows 0 and 2 alone
    gradient = host(x.grad)
    assert np.all(gradient[1] == 0.0) and np.all(np.isfinite(gradient))


def test_a_batch_with_every_label_ignored_gives_loss_zero_and_zero_gradient():
    x = Tensor(np.ones((3, 5)), requires_grad=True)
    loss = ag.cross_entropy(x, np.full(3, -100))
    loss.backward()
    assert loss.item() == 0.0
    np.testing.assert_array_equal(host(x.grad), np.zeros((3, 5)))


@given(st.data())
def test_embedding_gradient_with_repeated_ids_is_the_sum_over_repeats(data):
    ids = np.array(data.draw(st.lists(st.integers(0, 4), min_size=0, max_size=12)), dtype=np.int64)  # none at all too
    upstream = data.draw(arrays((len(ids), 3)))
    table = Tensor(np.zeros((5, 3)), requires_grad=True, dtype=np.float64)
    ag.embedding(table, ids).backward(upstream)
    expected = np.zeros((5, 3))
    for position, token in enumerate(ids):
        expected[token] += upstream[position]
    # the order of the additions is the engine's to choose, so sums can differ in the last place
    np.testing.assert_allclose(host(table.grad), expected, rtol=1e-12, atol=1e-12)


def test_doubling_a_loss_weight_doubles_its_gradient():
    logits = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True, dtype=np.float64)

    def gradient_of(weight):
        logits.zero_grad()
        (ag.cross_entropy(logits, [0, 1, 2, 0]) + weight * ag.mse_loss(logits, np.zeros((4, 3)))).backward()
        return host(logits.grad)

    mse_gradient = 2 * host(logits.data) / logits.size
    np.testing.assert_allclose(gradient_of(60.0) - gradient_of(30.0), 30.0 * mse_gradient, atol=1e-12)


def test_a_multi_task_loss_back_propagates_into_every_input():
    rng = np.random.default_rng(0)
    head_a, head_b, regression = (Tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)
                                  for shape in [(5, 3), (5, 2), (5,)])
    targets_a, targets_b = np.array([0, 2, 1, -100, 0]), np.array([1, 0, 1, 1, 0])

    def multi_task(head_a, head_b, regression):
        return ag.cross_entropy(head_a, targets_a) + ag.cross_entropy(head_b, targets_b) + 30 * ag.mse_loss(regression, np.ones(5))

    assert ag.gradcheck(multi_task, head_a, head_b, regression)


def test_dropout_is_the_identity_in_evaluation_and_keeps_the_mean_in_training():
    x = Tensor(np.full((200, 200), 2.0))
    assert ag.dropout(x, 0.3, training=False) is x
    ag.manual_seed(0)
    out = ag.dropout(x, 0.3).numpy()
    assert abs(out.mean() - 2.0) < 0.05
    assert abs((out == 0).mean() - 0.3) < 0.01
    assert set(np.unique(out)) == {0.0, np.float32(2.0 / 0.7)}


def test_dropout_repeats_after_manual_seed_and_drops_everything_at_p_one():
    x = Tensor(np.ones((10, 10)))
    ag.manual_seed(7)
    first = ag.dropout(x, 0.5).numpy()
    ag.manual_seed(7)
    np.testing.assert_array_equal(ag.dropout(x, 0.5).numpy(), first)
    np.testing.assert_array_equal(ag.dropout(x, 1.0).numpy(), np.zeros((10, 10)))


@not_on_the_pretend_gpu
def test_two_fresh_processes_draw_the_same_dropout_mask():
    script = ("import numpy as np; from tinybert.autograd import Tensor, dropout; "
              "print(np.flatnonzero(dropout(Tensor(np.ones(64)), 0.5).numpy()).tolist())")
    first, second = (subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
                     for _ in range(2))
    assert first == second and first.strip() != "[]"
