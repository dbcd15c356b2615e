"""Small computations whose graphs `tinybert graph` draws: each returns (result, {dotted name: parameter})."""

import numpy as np

from .. import autograd as ag
from ..models.attention import MultiHeadAttention
from ..models.bert import BertConfig, BertForPreTraining


def attention_graph():
    """Multi-head self-attention, 2 heads over d_model 8, on a batch of 2 sequences of 3 tokens, drawn
    step by step: the small ops that the fused attention op runs as one."""
    ag.manual_seed(0)
    attention = MultiHeadAttention(8, 2, fused=False)
    x = ag.Tensor(np.random.default_rng(0).standard_normal((2, 3, 8)), name="x")
    return attention(x), dict(attention.named_parameters())


def bert_graph():
    """The whole pretraining loss of a one-layer BERT (hidden 8, 2 heads), masked LM plus next sentence."""
    ag.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=20, hidden_size=8, num_layers=1, num_heads=2,
                                          intermediate_size=16, max_position_embeddings=8))
    rng = np.random.default_rng(0)
    input_ids, masked_positions = rng.integers(5, 20, size=(2, 6)), np.array([[1, 3], [2, 4]])
    mlm_logits, nsp_logits = model(input_ids, np.zeros((2, 6), dtype=np.int64), np.ones((2, 6), dtype=bool),
                                   masked_positions)
    loss = model.loss(mlm_logits, nsp_logits, rng.integers(5, 20, size=(2, 2)), np.array([0, 1]))[0]
    return loss, dict(model.named_parameters())


GRAPHS = {"attention": attention_graph, "bert": bert_graph}
