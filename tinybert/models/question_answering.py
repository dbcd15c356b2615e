"""BERT for extractive question answering (section 4.2, SQuAD; google-research/bert's run_squad.py
create_model, Hugging Face's BertForQuestionAnswering).

The input is [CLS] question [SEP] context [SEP]. One linear layer H -> 2 reads every token's final
hidden state and gives it two scores: how likely the answer starts there, and how likely it ends
there. The answer is the span whose start score plus end score is highest (tinybert/squad/spans.py
searches it); a question the context cannot answer points both at [CLS], position 0.

Symbols: B batch, T sequence length, H hidden size.
"""

from .. import autograd as ag
from ..autograd import backend
from ..nn import Linear, Module
from .bert import BertModel

PADDING_LOGIT = -1e4  # a padding position's score: softmax gives it exp(-1e4 - max) = 0 exactly, yet sums stay finite


class BertForQuestionAnswering(Module):
    """BertModel, then `qa_outputs` (Hugging Face's name): a start score and an end score per token.
    BERT's pooled [CLS] vector is computed but unused, so the pooler's weights get no gradient and stay
    as pretraining left them (Hugging Face builds this model without a pooler)."""

    def __init__(self, config):
        self.config = config
        self.bert = BertModel(config)
        self.qa_outputs = Linear(config.hidden_size, 2, init="bert")

    def forward(self, input_ids, segment_ids=None, attention_mask=None):
        """input_ids, segment_ids, attention_mask (B, T) as BertModel takes them. Returns start_logits and
        end_logits, each (B, T); at padding both are PADDING_LOGIT, so no answer can start or end there."""
        sequence_output, _ = self.bert(input_ids, segment_ids, attention_mask)  # (B, T, H)
        logits = self.qa_outputs(sequence_output)  # (B, T, 2)
        start_logits, end_logits = logits[:, :, 0], logits[:, :, 1]  # (B, T) each
        if attention_mask is None:
            return start_logits, end_logits
        is_padding = backend.array_module(start_logits.data).asarray(attention_mask) == 0  # (B, T)
        return ag.masked_fill(start_logits, is_padding, PADDING_LOGIT), ag.masked_fill(end_logits, is_padding,
                                                                                          PADDING_LOGIT)

    @staticmethod
    def loss(start_logits, end_logits, start_positions, end_positions):
        """(cross-entropy of the start positions + cross-entropy of the end positions) / 2, each averaged
        over the batch, as run_squad.py and Hugging Face. A position is a token index in 0..T-1; 0 ([CLS])
        where the window holds no answer."""
        T, xp = start_logits.shape[-1], start_logits.xp
        for name, positions in (("start_positions", start_positions), ("end_positions", end_positions)):
            outside = backend.first_out_of_range(xp.asarray(positions), 0, T)
            if outside is not None:
                raise ValueError(f"{name} holds {outside}, outside the {T} tokens: positions are token indices in "
                                 f"0..{T - 1} (0, [CLS], for no answer); were they made for longer inputs?")
        start_loss = ag.cross_entropy(start_logits, start_positions, ignore_index=None)  # (B, T), (B,) -> ()
        end_loss = ag.cross_entropy(end_logits, end_positions, ignore_index=None)  # (B, T), (B,) -> ()
        return (start_loss + end_loss) * 0.5
