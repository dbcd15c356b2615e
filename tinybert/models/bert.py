"""BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
Understanding"): the Transformer's encoder alone, pre-trained to fill in masked words (the masked LM)
and to tell whether sentence B followed sentence A (next sentence prediction), then fine-tuned.

Read in the order of google-research/bert's modeling.py: the config, the embeddings
(`embedding_postprocessor`), the layer and the encoder (`transformer_model`), the pooler, then the
pre-training heads and their loss (run_pretraining.py). Two options come from ALBERT (Lan et al. 2020,
section 3.1): factorised embeddings (`embedding_size` < `hidden_size`) and cross-layer sharing.

Symbols: B batch, T sequence length, P masked predictions per sequence, H hidden size,
E embedding size (H unless ALBERT's), V vocabulary size. Masks are boolean, True = may attend.
"""

from dataclasses import dataclass

import numpy as np

from .. import autograd as ag
from ..autograd import backend
from ..nn import Dropout, Embedding, FeedForward, LayerNorm, Linear, Module, ModuleList, Parameter
from .attention import MultiHeadAttention, padding_mask
from .config import ModelConfig
from .transformer import residual

SENTENCE_TASKS = ("nsp", "sop", "none")


@dataclass
class BertConfig(ModelConfig):
    """The sizes of a BERT, named as in the paper's section 3 (L, H, A) and google-research/bert's
    bert_config.json. `sentence_task` does not change the model, only what the data builder asks of
    its 2-way sentence head: "nsp", 0 = B follows A (IsNext), 1 = B is random (NotNext); "sop"
    (ALBERT's sentence-order prediction), 0 = A then B in order, 1 = swapped; "none" (RoBERTa's
    masked LM alone): the head is built, so every checkpoint has one shape, but nothing trains it."""

    vocab_size: int
    hidden_size: int = 768              # H
    num_layers: int = 12                # L
    num_heads: int = 12                 # A
    intermediate_size: int = 3072       # the feed-forward width, 4 H
    max_position_embeddings: int = 512
    type_vocab_size: int = 2            # segments: 0 for sentence A, 1 for sentence B
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    layer_norm_eps: float = 1e-12
    embedding_size: int | None = None   # E; None means H. ALBERT: E < H, projected up to H
    share_layers: bool = False          # ALBERT: one layer's weights used at every depth
    sentence_task: str = "nsp"          # or "sop"
    pad_id: int = 0

    def __post_init__(self):
        if self.sentence_task not in SENTENCE_TASKS:
            raise ValueError(f"unknown sentence_task {self.sentence_task!r}: use one of {', '.join(SENTENCE_TASKS)}")

    @property
    def embedding_width(self):
        """E, the width of the embedding tables: embedding_size, or H when it is None."""
        return self.embedding_size or self.hidden_size


class BertEmbeddings(Module):
    """Token + position + segment embeddings, summed, then LayerNorm and dropout (section 3.2, figure 2;
    modeling.py's embedding_lookup and embedding_postprocessor). Positions are learned, not sinusoidal.

    With E != H (ALBERT, section 3.1), the tables are E wide and `projection` maps E -> H after the
    dropout, as ALBERT's embedding_hidden_mapping_in: V x E + E x H weights instead of V x H."""

    def __init__(self, config):
        E = config.embedding_width
        self.word_embeddings = Embedding(config.vocab_size, E, init="bert")
        self.position_embeddings = Embedding(config.max_position_embeddings, E, init="bert")
        self.token_type_embeddings = Embedding(config.type_vocab_size, E, init="bert")
        self.layer_norm = LayerNorm(E, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout)
        self.projection = Linear(E, config.hidden_size, init="bert") if E != config.hidden_size else None

    def forward(self, input_ids, segment_ids):  # (B, T), (B, T) -> (B, T, H)
        T, max_positions = input_ids.shape[1], self.position_embeddings.weight.shape[0]
        if T > max_positions:
            raise ValueError(f"a sequence of {T} tokens exceeds max_position_embeddings={max_positions}: "
                             "truncate it, or build the model with a larger max_position_embeddings")
        x = (self.word_embeddings(input_ids) + self.position_embeddings(np.arange(T))
             + self.token_type_embeddings(segment_ids))  # (B, T, E) + (T, E) + (B, T, E) -> (B, T, E)
        x = self.dropout(self.layer_norm(x))  # (B, T, E)
        return x if self.projection is None else self.projection(x)  # (B, T, H)


class BertLayer(Module):
    """One encoder layer, post-LN as the Transformer (Vaswani et al. 2017, section 3.1) and modeling.py's
    transformer_model: x = LayerNorm(x + Dropout(SelfAttention(x))), then
    x = LayerNorm(x + Dropout(FFN(x))) with the exact erf GELU. BERT drops out nothing inside the
    feed-forward network, so its own dropout is 0."""

    def __init__(self, config):
        H = config.hidden_size
        self.attention = MultiHeadAttention(H, config.num_heads, config.attention_dropout, init="bert")
        self.attention_norm = LayerNorm(H, eps=config.layer_norm_eps)
        self.feed_forward = FeedForward(H, config.intermediate_size, dropout=0.0, activation="gelu", init="bert")
        self.output_norm = LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout)

    def forward(self, x, mask):  # (B, T, H), mask (B, 1, 1, T) -> (B, T, H)
        x = residual(x, lambda h: self.attention(h, mask=mask), self.attention_norm, self.dropout, norm_first=False)
        return residual(x, self.feed_forward, self.output_norm, self.dropout, norm_first=False)


class BertEncoder(Module):
    """num_layers BertLayers one after the other. With share_layers (ALBERT, section 3.1) every slot
    holds the same layer object, so its one set of weights is applied num_layers times and gets the
    sum of the gradients from every depth; named_parameters lists it once, as layers.0."""

    def __init__(self, config):
        self.share_layers = config.share_layers
        if config.share_layers:
            self.layers = ModuleList([BertLayer(config)] * config.num_layers)
        else:
            self.layers = ModuleList([BertLayer(config) for _ in range(config.num_layers)])

    def forward(self, x, mask):  # (B, T, H) -> (B, T, H)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def extra_repr(self):
        return f"num_layers={len(self.layers)}, share_layers={self.share_layers}"


class BertPooler(Module):
    """tanh(dense(h_[CLS])): the first position's final hidden state, the sequence's summary that the
    sentence-level heads read (section 3, "C"; modeling.py's "pooler")."""

    def __init__(self, config):
        self.dense = Linear(config.hidden_size, config.hidden_size, init="bert")

    def forward(self, sequence_output):  # (B, T, H) -> (B, H)
        return ag.tanh(self.dense(sequence_output[:, 0]))  # (B, H)


class BertModel(Module):
    """Embeddings, the encoder and the pooler: ids -> one vector per token and one per sequence."""

    def __init__(self, config):
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config)

    def forward(self, input_ids, segment_ids=None, attention_mask=None):
        """input_ids (B, T); segment_ids (B, T), 0 for sentence A and 1 for B (None: all 0);
        attention_mask (B, T), 1 or True at real tokens and 0 at padding, google-research/bert's
        input_mask (None: no padding). Returns sequence_output (B, T, H) and pooled (B, H)."""
        xp = backend.array_module(input_ids)  # ids may come as NumPy arrays (or lists), or already on the GPU
        input_ids = xp.asarray(input_ids)
        segment_ids = xp.zeros_like(input_ids) if segment_ids is None else xp.asarray(segment_ids)
        is_real = None if attention_mask is None else xp.asarray(attention_mask) != 0  # (B, T)
        mask = None if is_real is None or is_real.all() else padding_mask(is_real)  # (B, 1, 1, T); no padding: None
        sequence_output = self.encoder(self.embeddings(input_ids, segment_ids), mask)  # (B, T, H)
        return sequence_output, self.pooler(sequence_output)  # (B, T, H), (B, H)


class MaskedLMHead(Module):
    """The masked-LM head (section 3.1, task #1; run_pretraining.py's get_masked_lm_output): a transform
    (dense H -> E, GELU, LayerNorm), then scores against every word: the word-embedding matrix itself,
    transposed, plus a bias per word. The matrix is tied (Press and Wolf 2017): `decoder_weight` is the
    same Parameter object as the embedding's, so its gradient is the lookup's plus the decoder's."""

    def __init__(self, config, word_embeddings):
        E = config.embedding_width
        self.transform = Linear(config.hidden_size, E, init="bert")
        self.layer_norm = LayerNorm(E, eps=config.layer_norm_eps)
        self.decoder_weight = word_embeddings.weight  # (V, E): tied, not a copy
        self.bias = Parameter(np.zeros(config.vocab_size, dtype=np.float32))

    def forward(self, hidden):  # (B, P, H) -> (B, P, V)
        hidden = self.layer_norm(ag.gelu(self.transform(hidden)))  # (B, P, E)
        return ag.linear(hidden, self.decoder_weight.transpose(), self.bias)  # (B, P, E) @ (E, V) + (V,) -> (B, P, V)


class BertForPreTraining(Module):
    """BERT with its two pre-training heads: the masked LM and the 2-way sentence head
    (`next_sentence`, NSP or ALBERT's SOP: section 3.1 task #2; get_next_sentence_output)."""

    def __init__(self, config):
        self.config = config
        self.bert = BertModel(config)
        self.masked_lm = MaskedLMHead(config, self.bert.embeddings.word_embeddings)
        self.next_sentence = Linear(config.hidden_size, 2, init="bert")

    def forward(self, input_ids, segment_ids, attention_mask, masked_positions):
        """masked_positions (B, P): where each sequence's masked tokens are (padded with any position
        whose label is -100). The MLM head runs only there, as modeling.py's gather_indexes: its
        (E x V) decoder, the costliest product, sees P << T rows instead of T. Returns mlm_logits (B, P, V), nsp_logits (B, 2)."""
        sequence_output, pooled = self.bert(input_ids, segment_ids, attention_mask)  # (B, T, H), (B, H)
        masked_positions = backend.array_module(masked_positions).asarray(masked_positions)  # (B, P)
        rows = np.arange(masked_positions.shape[0])[:, None]  # (B, 1), broadcast against (B, P)
        at_masked = sequence_output[rows, masked_positions]  # (B, P, H)
        return self.masked_lm(at_masked), self.next_sentence(pooled)  # (B, P, V), (B, 2)

    @staticmethod
    def loss(mlm_logits, nsp_logits, masked_labels, next_sentence_labels):
        """(total, mlm_loss, nsp_loss), total = mlm_loss + nsp_loss, as run_pretraining.py.

        mlm_loss: cross-entropy averaged over the real masked predictions only; a padded prediction
        (label -100) adds nothing and does not count in the mean (google-research/bert's
        masked_lm_weights). nsp_loss: cross-entropy over every pair, ignoring no label (never
        ignore_index=0): label 0 (IsNext, or in-order for SOP) is a class to learn like 1."""
        mlm_loss = ag.cross_entropy(mlm_logits, masked_labels, ignore_index=-100)  # (B, P, V), (B, P) -> ()
        nsp_loss = ag.cross_entropy(nsp_logits, next_sentence_labels, ignore_index=None)  # (B, 2), (B,) -> (); 0 or 1
        return mlm_loss + nsp_loss, mlm_loss, nsp_loss


class BertForSequenceClassification(Module):
    """BERT fine-tuned to label a sentence or a sentence pair (section 4.1; run_classifier.py's
    create_model): the pooled [CLS] vector, dropout, then one linear layer to a score per label. With
    num_labels=1 the one score is a regression's prediction (STS-B), as in Hugging Face's model."""

    def __init__(self, config, num_labels):
        if num_labels < 1:
            raise ValueError(f"a classifier needs at least 1 output (a regression) or 2 labels, not {num_labels}")
        self.config = config
        self.bert = BertModel(config)
        self.dropout = Dropout(config.hidden_dropout)
        self.classifier = Linear(config.hidden_size, num_labels, init="bert")

    def forward(self, input_ids, segment_ids=None, attention_mask=None):  # (B, T) -> logits (B, num_labels)
        _, pooled = self.bert(input_ids, segment_ids, attention_mask)  # (B, H)
        return self.classifier(self.dropout(pooled))  # (B, num_labels)
