"""Continuing a text with a left-to-right model (GPT), one sampled token at a time.

Each step runs the model over the text so far (the last max_position_embeddings tokens of it), takes
the scores for the next token, and draws it: from softmax(scores / temperature), among the top_k most
likely tokens only when top_k is given (tokens tied with the k-th stay in); temperature 0 takes the
most likely token (greedy). Special tokens other than [SEP] are never drawn. A [SEP],
the end of a document in the training text, ends the continuation. (A real implementation keeps each
layer's keys and values between steps instead of recomputing them; at these sizes it need not.)
"""

import numpy as np

from . import autograd as ag


def next_token(scores, temperature, top_k, rng):
    """One token id drawn from `scores` (V,), float64."""
    if temperature == 0:
        return int(scores.argmax())
    if top_k is not None and top_k < scores.size:
        threshold = np.partition(scores, -top_k)[-top_k]  # the k-th largest score
        scores = np.where(scores >= threshold, scores, -np.inf)
    scaled = (scores - scores.max()) / temperature
    probabilities = np.exp(scaled) / np.exp(scaled).sum()
    return int(rng.choice(scores.size, p=probabilities))


def generate(model, tokenizer, prompt, max_new_tokens=20, temperature=1.0, top_k=None, seed=0):
    """The prompt's tokens and their continuation, as text (the prompt comes back as the tokenizer sees it:
    lowercased, say): up to max_new_tokens tokens, ending early at a [SEP]. Leaves the model in eval mode."""
    if temperature < 0:
        raise ValueError(f"temperature must be 0 (greedy) or more, not {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be 1 or more, not {top_k}")
    ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(prompt))
    if not ids:
        raise ValueError(f"the prompt {prompt!r} has no tokens to continue: give it some words")
    rng = np.random.default_rng(seed)
    window = model.position_embeddings.weight.shape[0]
    never_drawn = sorted(tokenizer.special_ids - {tokenizer.sep_id})  # [PAD], [UNK], [CLS], [MASK]: not text
    model.eval()
    with ag.no_grad():
        for _ in range(max_new_tokens):
            scores = model(np.array([ids[-window:]])).numpy()[0, -1].astype(np.float64)  # (V,): the next token's
            scores[never_drawn] = -np.inf
            token = next_token(scores, temperature, top_k, rng)
            if token == tokenizer.sep_id:
                break
            ids.append(token)
    return tokenizer.decode(ids)
