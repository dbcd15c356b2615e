"""Cross-check: the optimizers, the schedules and clipping give PyTorch's numbers in float64, on
hypothesis-drawn hyperparameters and random gradients."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import host, on_device
from strategies import arrays, shapes
from tinybert import nn
from tinybert.optim import SGD, Adam, AdamW, LRScheduler, clip_grad_norm, inverse_square_root, linear_warmup_decay

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")

SHAPES = [(3, 4), (4,)]  # a weight and a bias
STEPS = 5

learning_rates = st.floats(1e-4, 1.0)
weight_decays = st.floats(0.0, 0.5)
betas = st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.999))
adam_settings = st.fixed_dictionaries({"lr": learning_rates, "betas": betas, "eps": st.floats(1e-10, 1e-4),
                                       "weight_decay": weight_decays})
OPTIMIZERS = {  # name: (ours, PyTorch's, the hyperparameters to draw)
    "SGD": (SGD, torch.optim.SGD, st.fixed_dictionaries({"lr": learning_rates, "momentum": st.floats(0.0, 0.99),
                                                         "weight_decay": weight_decays})),
    "Adam": (Adam, torch.optim.Adam, adam_settings),
    "AdamW": (AdamW, torch.optim.AdamW, adam_settings),
}


def weight_and_bias_groups(weight, bias):
    """The weight in a group with the optimizer's settings, the bias in one without weight decay."""
    return [{"params": [weight]}, {"params": [bias], "weight_decay": 0.0}]


@pytest.mark.parametrize("name", OPTIMIZERS)
@given(data=st.data())
def test_five_steps_give_pytorchs_parameters(name, data):
    ours_class, torch_class, settings_strategy = OPTIMIZERS[name]
    settings = data.draw(settings_strategy, label="settings")
    generator = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    starts = [generator.standard_normal(shape) for shape in SHAPES]
    ours = [nn.Parameter(start.copy(), dtype=np.float64) for start in starts]
    theirs = [torch.tensor(start, requires_grad=True) for start in starts]
    our_optimizer = ours_class(weight_and_bias_groups(*ours), **settings)
    their_optimizer = torch_class(weight_and_bias_groups(*theirs), **settings)
    for _ in range(STEPS):
        for mine, reference in zip(ours, theirs):
            grad = generator.standard_normal(mine.shape)
            mine.grad, reference.grad = on_device(grad), torch.tensor(grad)
        our_optimizer.step()
        their_optimizer.step()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(host(mine.data), reference.detach().numpy(), rtol=1e-10, atol=1e-12)


def scheduled_lrs(optimizer, scheduler, steps):
    """The lr of the optimizer's first group at each step, stepping optimizer and scheduler as training does."""
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@given(warmup_steps=st.integers(0, 20), decay_steps=st.integers(1, 20))
def test_linear_warmup_decay_equals_hugging_faces(warmup_steps, decay_steps):
    transformers = pytest.importorskip("transformers", reason="the Hugging Face cross-checks need the parity extra: "
                                                              "pip install -e \".[parity]\"")
    total_steps = warmup_steps + decay_steps
    ours = SGD([nn.Parameter([0.0])], lr=0.1)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    our_lrs = scheduled_lrs(ours, LRScheduler(ours, lambda step: linear_warmup_decay(step, warmup_steps, total_steps)),
                            total_steps + 3)
    their_lrs = scheduled_lrs(theirs, transformers.get_linear_schedule_with_warmup(theirs, warmup_steps, total_steps),
                              total_steps + 3)
    np.testing.assert_allclose(our_lrs, their_lrs, rtol=1e-15, atol=0)


def annotated_transformer_rate(step, model_size, factor, warmup):
    """`rate` from The Annotated Transformer (harvardnlp, 2022), as written there."""
    if step == 0:
        step = 1
    return factor * (model_size ** (-0.5) * min(step ** (-0.5), step * warmup ** (-1.5)))


@given(warmup_steps=st.integers(1, 30), factor=st.floats(0.5, 2.0))
def test_inverse_square_root_equals_the_annotated_transformers_lambda_lr(warmup_steps, factor):
    ours = Adam([nn.Parameter([0.0])], lr=1.0)
    theirs = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    our_scheduler = LRScheduler(ours, lambda step: inverse_square_root(step, 512, warmup_steps, factor))
    their_scheduler = torch.optim.lr_scheduler.LambdaLR(
        theirs, lambda step: annotated_transformer_rate(step, 512, factor, warmup_steps))
    np.testing.assert_allclose(scheduled_lrs(ours, our_scheduler, 60), scheduled_lrs(theirs, their_scheduler, 60),
                               rtol=1e-12, atol=0)


@given(data=st.data(), max_norm=st.floats(0.1, 10.0))
def test_clipping_equals_pytorchs(data, max_norm):
    grads = [data.draw(arrays(shape)) for shape in data.draw(st.lists(shapes(), min_size=1, max_size=3))]
    ours = [nn.Parameter(np.zeros(grad.shape), dtype=np.float64) for grad in grads]
    theirs = [torch.zeros(grad.shape, dtype=torch.float64, requires_grad=True) for grad in grads]
    for mine, reference, grad in zip(ours, theirs, grads):
        mine.grad, reference.grad = on_device(grad), torch.tensor(grad)
    our_norm = clip_grad_norm(ours, max_norm)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert float(our_norm) == pytest.approx(their_norm.item(), rel=1e-12)
    for mine, reference in zip(ours, theirs):  # the same factor, min(1, max_norm / (norm + 1e-6)), in float64
        np.testing.assert_allclose(host(mine.grad), reference.grad.numpy(), rtol=1e-12, atol=1e-300)
