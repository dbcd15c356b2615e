"""The RNN encoder-decoder with attention (Bahdanau, Cho and Bengio 2015), where attention began.

    encoder     annotations h_1 .. h_S = a bidirectional GRU over the source's embeddings    (B, S, 2H)
    start       s_0 = tanh(W_s [last forward state; first backward state] + b_s)         (B, 2H)
    step i      c_i = attention(query s_{i-1}, keys and values h_1 .. h_S)                (B, 2H)
                s_i = GRU([embedding of y_{i-1}; c_i], s_{i-1})                           (B, 2H)
                scores over the output vocabulary = W_o [s_i; c_i] + b_o                  (B, V)

Any score of the family (attention_scores.py) can be the attention: "additive" is Bahdanau's,
"general" and "dot" Luong's. With score None the decoder gets one fixed vector, s_0's source
summary, at every step instead of c_i: the encoder-decoder of Cho et al. (2014), which must squeeze
the whole source into it. (Bahdanau's s_0 reads the first backward state alone, without a bias, and
his readout also mixes in y_{i-1} through a maxout layer; here s_0 reads both directions' ends and
the readout is one linear layer.)

Training feeds the decoder the right previous token (teacher forcing); `greedy_decode` feeds it its
own most likely one. Token ids: PAD_ID 0 (ignored by the loss and by attention), BOS_ID 1 starts the
decoder, EOS_ID 2 ends a target.
"""

from .. import autograd as ag
from ..nn import Embedding, Linear, Module
from .attention_scores import Attention, make_score
from .rnn import GRU, GRUCell

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2


class AttentionEncoderDecoder(Module):
    """source_vocab and target_vocab ids in, target scores out. hidden is H, each encoder direction's
    size (the decoder's state is 2H, the annotations' size); score names the attention (None: none)."""

    def __init__(self, source_vocab, target_vocab, embedding_dim=32, hidden=32, score="additive",
                 attention_dim=32, max_source_length=64, init="xavier"):
        self.score_name = score
        self.source_embedding = Embedding(source_vocab, embedding_dim, init=init)
        self.target_embedding = Embedding(target_vocab, embedding_dim, init=init)
        self.encoder = GRU(embedding_dim, hidden, bidirectional=True, init=init)
        self.start = Linear(2 * hidden, 2 * hidden, init=init)  # W_s
        self.attention = None if score is None else Attention(make_score(
            score, 2 * hidden, 2 * hidden, hidden_dim=attention_dim, max_keys=max_source_length, init=init))
        self.decoder_cell = GRUCell(embedding_dim + 2 * hidden, 2 * hidden, init=init)
        self.readout = Linear(4 * hidden, target_vocab, init=init)  # W_o, b_o

    def encode(self, source_ids):
        """source_ids (B, S), PAD_ID after each source's end -> annotations (B, S, 2H), s_0 (B, 2H), is_real (B, S)."""
        source_ids = ag.backend.array_module(source_ids).asarray(source_ids)  # lists too; GPU arrays stay there
        is_real = source_ids != PAD_ID  # (B, S)
        annotations, final = self.encoder(self.source_embedding(source_ids), is_real)  # (B, S, 2H), (B, 2H)
        return annotations, ag.tanh(self.start(final)), is_real

    def decode_step(self, previous_ids, state, annotations, is_real, summary):
        """One decoder step: the scores over the target vocabulary (B, V), the next state (B, 2H) and
        the attention weights (B, S), or None without attention."""
        B, width = state.shape
        embedded = self.target_embedding(previous_ids)  # (B, E)
        if self.attention is None:
            context, weights = summary, None  # the one fixed vector, every step
        else:
            mask = annotations.xp.asarray(is_real)[:, None, :]  # (B, 1, S): no attention to padding
            context, weights = self.attention(state.reshape(B, 1, width), annotations, annotations, mask)
            context, weights = context.reshape(B, width), weights.reshape(B, -1)  # (B, 2H), (B, S)
        state = self.decoder_cell(ag.concatenate([embedded, context], axis=-1), state)  # (B, 2H)
        return self.readout(ag.concatenate([state, context], axis=-1)), state, weights  # (B, V), (B, 2H), (B, S)

    def forward(self, source_ids, decoder_input_ids):
        """Teacher forcing: decoder_input_ids (B, L) are BOS_ID and then the target without its last
        token. Returns the scores (B, L, V) and the attention weights (B, L, S) (None without attention)."""
        annotations, summary, is_real = self.encode(source_ids)
        state, all_scores, all_weights = summary, [], []
        for i in range(decoder_input_ids.shape[1]):
            scores, state, weights = self.decode_step(decoder_input_ids[:, i], state, annotations, is_real, summary)
            all_scores.append(scores)
            all_weights.append(weights)
        weights = None if self.attention is None else ag.stack(all_weights, axis=1)
        return ag.stack(all_scores, axis=1), weights  # (B, L, V), (B, L, S)

    @staticmethod
    def loss(scores, target_ids):
        """Cross-entropy of the scores (B, L, V) against the target ids (B, L), averaged over the real
        (non-PAD_ID) target tokens."""
        return ag.cross_entropy(scores, target_ids, ignore_index=PAD_ID)

    def greedy_decode(self, source_ids, max_length):
        """The most likely token at each step, fed back as the next step's input, until every sequence
        has produced EOS_ID or max_length tokens. Returns the ids (B, L), EOS_ID and after it PAD_ID,
        and the attention weights (B, L, S) as a NumPy array (None without attention); a sequence's rows
        after its EOS_ID are those of steps it no longer needed, to be ignored."""
        with ag.no_grad():
            annotations, summary, is_real = self.encode(source_ids)
            xp, B = annotations.xp, annotations.shape[0]
            state, previous = summary, xp.full(B, BOS_ID)
            done = xp.zeros(B, dtype=bool)
            ids, all_weights = [], []
            for _ in range(max_length):
                scores, state, weights = self.decode_step(previous, state, annotations, is_real, summary)
                previous = xp.where(done, PAD_ID, scores.data.argmax(axis=-1))  # (B,)
                ids.append(previous)
                all_weights.append(None if weights is None else weights.data)
                done = done | (previous == EOS_ID)
                if bool(done.all()):
                    break
        weights = None if self.attention is None else ag.backend.to_numpy(xp.stack(all_weights, axis=1))
        return ag.backend.to_numpy(xp.stack(ids, axis=1)), weights

    def extra_repr(self):
        return f"score={self.score_name}"
