"""Cross-check: tinybert's GPT equals Hugging Face's GPT2LMHeadModel holding the same weights, in float64,
on a padded batch: the scores at every real position, the next-token loss, and the gradient of every
parameter after its backward.

GPT-2 keeps its projections in Conv1D layers, whose weights are (in, out), as ours are, so they go in as
they are; but it keeps the three attention projections side by side in one c_attn (H, 3H), which ours
splits into q, k and v. Its GELU is the tanh form ("gelu_new"). Hugging Face's weights are drawn by its
own initialisation and nudged off their start (LayerNorm's ones and zeros, zero biases)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import host, on_device
from tinybert.models.gpt import GPT, GPTConfig

torch = pytest.importorskip(
    "torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
transformers = pytest.importorskip(
    "transformers", reason="the Hugging Face cross-checks need the parity extra: pip install -e \".[parity]\"")

CONFIG = GPTConfig(vocab_size=11, hidden_size=8, num_layers=2, num_heads=2, intermediate_size=16,
                   max_position_embeddings=9, dropout=0.0)
NAMES = [  # (Hugging Face, ours), whole-name pieces, applied in order
    ("transformer.wte.", "token_embeddings."), ("transformer.wpe.", "position_embeddings."),
    ("transformer.ln_f.", "final_norm."), ("transformer.h.", "blocks."), (".ln_1.", ".attention_norm."),
    (".ln_2.", ".feed_forward_norm."), (".attn.c_proj.", ".attention.out."), (".mlp.c_fc.", ".feed_forward.up."),
    (".mlp.c_proj.", ".feed_forward.down."),
]


def our_name(name):
    for theirs, ours in NAMES:
        name = name.replace(theirs, ours)
    return name


def twins(seed):
    """A Hugging Face GPT-2 with nudged weights, and our GPT holding the same."""
    torch.manual_seed(seed)
    hf_config = transformers.GPT2Config(vocab_size=CONFIG.vocab_size, n_embd=CONFIG.hidden_size,
                                        n_layer=CONFIG.num_layers, n_head=CONFIG.num_heads,
                                        n_inner=CONFIG.intermediate_size, n_positions=CONFIG.max_position_embeddings,
                                        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                                        attn_pdrop=0.0, layer_norm_epsilon=CONFIG.layer_norm_eps,
                                        bos_token_id=None, eos_token_id=None, attn_implementation="eager")
    theirs = transformers.GPT2LMHeadModel(hf_config).double()
    ours = GPT(CONFIG).to(np.float64)
    parameters = dict(ours.named_parameters())
    with torch.no_grad():
        for name, tensor in theirs.named_parameters():
            tensor.add_(0.1 * torch.randn_like(tensor))  # off LayerNorm's ones and zeros and the zero biases
            array = tensor.numpy()
            if ".attn.c_attn." in name:  # (H, 3H) and (3H,): q, k, v side by side
                for part, piece in zip("qkv", np.split(array, 3, axis=-1)):
                    parameters[our_name(name).replace(".attn.c_attn.", f".attention.{part}.")].data[...] = on_device(piece)
            elif name != "lm_head.weight":  # tied to wte, which is copied
                parameters[our_name(name)].data[...] = on_device(array)
    return theirs, ours


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2 ** 16), lengths=st.lists(st.integers(2, 9), min_size=2, max_size=3))
def test_our_gpt_equals_hugging_faces_gpt2(seed, lengths):
    theirs, ours = twins(seed)
    rng = np.random.default_rng(seed)
    ids = np.zeros((len(lengths), max(lengths)), dtype=np.int64)  # right padding with pad_id 0
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(1, CONFIG.vocab_size, size=length)
    is_real = ids != 0
    labels = torch.tensor(np.where(is_real, ids, -100))

    logits = theirs(torch.tensor(ids), attention_mask=torch.tensor(is_real.astype(np.int64))).logits
    # the shifted next-token loss, in float64 (Hugging Face's own loss casts the logits to float32 first)
    expected_loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, CONFIG.vocab_size),
                                                      labels[:, 1:].reshape(-1), ignore_index=-100)
    scores = ours(ids, attention_mask=is_real)
    loss = ours.loss(scores, ids)
    np.testing.assert_allclose(host(scores.data)[is_real], logits.detach().numpy()[is_real], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(loss.item(), expected_loss.item(), rtol=1e-10)

    loss.backward()
    expected_loss.backward()
    parameters = dict(ours.named_parameters())
    for name, tensor in theirs.named_parameters():
        if name == "lm_head.weight":
            continue
        reference = tensor.grad.numpy()
        if ".attn.c_attn." in name:
            ours_grad = np.concatenate([host(parameters[our_name(name).replace(".attn.c_attn.", f".attention.{part}.")].grad)
                                        for part in "qkv"], axis=-1)
        else:
            ours_grad = host(parameters[our_name(name)].grad)
        np.testing.assert_allclose(ours_grad, reference, rtol=1e-8, atol=1e-10, err_msg=name)
