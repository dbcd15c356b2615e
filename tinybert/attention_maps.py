"""What each head of a BERT looks at: the attention weights of every layer and head for one input,
and a terminal drawing of them (a shaded grid, queries down, keys across).

Each layer is run one by one and its weights read right after it, so a model that shares one layer's
weights across depths (ALBERT) still shows every depth's own attention.
"""

import numpy as np

from . import autograd as ag

SHADES = " ░▒▓█"                       # darker is more weight
SHADE_LIMITS = (0.05, 0.15, 0.3, 0.6)  # a weight below the first limit is blank, above the last is full


def attention_maps(model, tokenizer, text):
    """(tokens, weights (layers, heads, T, T)) for `text`, from `model` (a BertForPreTraining or its .bert).
    Row i of a head's map is how query token i spreads its attention over the keys; it sums to 1."""
    encoder = getattr(model, "bert", model)
    encoding = tokenizer.encode(text, max_length=encoder.embeddings.position_embeddings.weight.shape[0])
    input_ids, segment_ids = np.array([encoding.ids]), np.array([encoding.segment_ids])  # (1, T)
    was_training = encoder.training
    encoder.eval()
    maps = []
    with ag.no_grad():
        x = encoder.embeddings(input_ids, segment_ids)  # (1, T, H)
        for layer in encoder.encoder.layers:
            x = layer(x, None)  # one sentence, no padding: no mask
            maps.append(layer.attention.attention_weights.numpy()[0])  # (heads, T, T)
    encoder.train(was_training)
    return [tokenizer.tokens[token] for token in encoding.ids], np.stack(maps)  # (layers, heads, T, T)


def shade(weight):
    return SHADES[int(np.searchsorted(SHADE_LIMITS, weight, side="right"))]


def draw_map(tokens, weights, title, width=6):
    """One head's map as text: a row per query token, a two-character cell per key, the keys' tokens
    written down the columns' heads, each cut to `width` characters."""
    labels = [token[:width] for token in tokens]
    left = max(len(label) for label in labels) + 2
    header = [(" " * left + " ".join(label.ljust(width)[row] + " " for label in labels)).rstrip() for row in range(width)]
    header = [line for line in header if line.strip()]  # keys written top to bottom, a character a line
    rows = [(label.rjust(left - 2) + "  " + " ".join(shade(weight) * 2 for weight in row)).rstrip()
            for label, row in zip(labels, weights)]
    return "\n".join([title] + header + rows)


def legend():
    bands = [f"{SHADES[0]!r} < {SHADE_LIMITS[0]}"] + [
        f"{SHADES[number + 1]} {low}-{high}" for number, (low, high) in enumerate(zip(SHADE_LIMITS, SHADE_LIMITS[1:]))
    ] + [f"{SHADES[-1]} > {SHADE_LIMITS[-1]}"]
    return "rows: the query token; columns: the key it attends to; shade = weight: " + ",  ".join(bands)
