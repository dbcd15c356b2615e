"""The attention family's lesson (`tinybert explain attention --score NAME`): one query-key-value
attention with any score of attention_scores.py, forward and backward, every gradient proved.

Whatever the score, the top of the backward is the same (O = A V, A = softmax(S)):
    dV = A^T dO,   dA = dO V^T,   dS = A * (dA - rowsum(dA * A))
and only the last steps, from dS back into the score's inputs and weights, differ:
    dot          S = Q K^T                 dQ = dS K,  dK = dS^T Q
    scaled-dot   S = Q K^T / sqrt(d)       dQ = dS K / sqrt(d),  dK = dS^T Q / sqrt(d)
    general      S = Q (K W)^T             P = K W:  dQ = dS P,  dP = dS^T Q,  dK = dP W^T,  dW = K^T dP
    additive     S[t, s] = H[t, s] . v     H[t, s] = tanh(q_t W + k_s U),  dZ = dS[t, s] v^T * (1 - H^2):
                                           dQ = (sum over s of dZ) W^T,  dW = Q^T (sum over s of dZ),
                                           dK = (sum over t of dZ) U^T,  dU = K^T (sum over t of dZ),
                                           dv = sum over t and s of dS[t, s] H[t, s]
    cosine       S = beta Qn Kn^T          Qn, Kn: rows scaled to length 1;  dbeta = sum(dS * Qn Kn^T),
                                           dQn = beta dS Kn,  dQ = (dQn - Qn rowsum(dQn * Qn)) / |Q|,  likewise K
    location     S = (Q W)[:, :n]          n keys:  dQ = dS W[:, :n]^T,  dW[:, :n] = Q^T dS,  dK = 0 (content unused)
"""

import math

import numpy as np

from .. import autograd as ag
from ..models.attention_scores import SCORES, make_score
from .lesson import ARRIVING_NOTE, Lesson, Step, gradient_step, plural, softmax_rows

TITLES = {
    "dot": ("Dot-product attention", "S = Q K^T", "Luong, Pham and Manning 2015, section 3.1, 'dot'"),
    "scaled-dot": ("Scaled dot-product attention", "S = Q K^T / sqrt(d)", "Vaswani et al. 2017, equation 1"),
    "general": ("General attention", "S = Q (K W)^T, that is q_t^T W^T k_s", "Luong, Pham and Manning 2015, 'general'"),
    "additive": ("Additive attention", "S[t, s] = v . tanh(q_t W + k_s U)",
                 "Bahdanau, Cho and Bengio 2015, appendix A.1.2"),
    "cosine": ("Cosine attention", "S[t, s] = beta q_t . k_s / (|q_t| |k_s|)",
               "Graves, Wayne and Danihelka 2014, equations 5 and 6"),
    "location": ("Location-based attention", "S = (Q W)[:, :n] for n keys, their content unused",
                 "Luong, Pham and Manning 2015, 'location'"),
}
WEIGHT_NAMES = {  # the score's weights: (name in the lesson, dotted parameter name)
    "general": [("W", "key_projection.weight")],
    "additive": [("W", "query_projection.weight"), ("U", "key_projection.weight"), ("v", "readout.weight")],
    "cosine": [("beta", "sharpness")],
    "location": [("W", "position_scores.weight")],
}


def unit_rows(rows):
    """Each row scaled to length 1 (a tiny 1e-12 under the root, as CosineScore)."""
    return rows / np.sqrt((rows * rows).sum(axis=1, keepdims=True) + 1e-12)


def numpy_scores(name, q, k, weights):
    """The score `name` in NumPy, from q (T, d), k (S, d) and the score's weights by lesson name."""
    if name in ("dot", "scaled-dot"):
        return q @ k.T / (math.sqrt(q.shape[1]) if name == "scaled-dot" else 1.0)
    if name == "general":
        return q @ (k @ weights["W"]).T
    if name == "additive":
        hidden = np.tanh((q @ weights["W"])[:, None, :] + (k @ weights["U"])[None, :, :])  # (T, S, h)
        return (hidden @ weights["v"])[..., 0]
    if name == "cosine":
        return weights["beta"][0] * unit_rows(q) @ unit_rows(k).T
    return (q @ weights["W"])[:, :k.shape[0]]  # location


def score_gradients(name, q, k, weights, ds):
    """dQ, dK and each weight's gradient, by the formulas of the module docstring."""
    if name in ("dot", "scaled-dot"):
        scale = 1 / math.sqrt(q.shape[1]) if name == "scaled-dot" else 1.0
        return ds @ k * scale, ds.T @ q * scale, {}
    if name == "general":
        projected = k @ weights["W"]  # P (S, d)
        dp = ds.T @ q
        return ds @ projected, dp @ weights["W"].T, {"W": k.T @ dp}
    if name == "additive":
        hidden = np.tanh((q @ weights["W"])[:, None, :] + (k @ weights["U"])[None, :, :])  # H (T, S, h)
        dz = ds[..., None] * weights["v"][:, 0] * (1 - hidden * hidden)  # (T, S, h)
        by_query, by_key = dz.sum(axis=1), dz.sum(axis=0)  # (T, h), (S, h)
        return (by_query @ weights["W"].T, by_key @ weights["U"].T,
                {"W": q.T @ by_query, "U": k.T @ by_key, "v": (ds[..., None] * hidden).sum(axis=(0, 1))[:, None]})
    if name == "cosine":
        q_length = np.sqrt((q * q).sum(axis=1, keepdims=True) + 1e-12)
        k_length = np.sqrt((k * k).sum(axis=1, keepdims=True) + 1e-12)
        qn, kn, beta = q / q_length, k / k_length, weights["beta"][0]
        dqn, dkn = beta * ds @ kn, beta * ds.T @ qn
        dq = (dqn - qn * (dqn * qn).sum(axis=1, keepdims=True)) / q_length
        dk = (dkn - kn * (dkn * kn).sum(axis=1, keepdims=True)) / k_length
        return dq, dk, {"beta": np.array([(ds * (qn @ kn.T)).sum()])}
    used = weights["W"][:, :k.shape[0]]  # location
    dw = np.zeros_like(weights["W"])
    dw[:, :k.shape[0]] = q.T @ ds
    return ds @ used.T, np.zeros_like(k), {"W": dw}


def score_lesson(name, tokens=3, dim=4, seed=0):
    """The lesson for attention with the score `name` over `tokens` tokens of `dim` dimensions."""
    if name not in SCORES:
        raise ValueError(f"unknown attention score {name!r}: use one of {', '.join(SCORES)}")
    rng = np.random.default_rng(seed)

    def draw(*shape):  # numbers of two decimals: easy to read, and to redo by hand; never 0.00, so that no
        # query or key of one dimension is the zero vector, where the cosine's direction q / |q| has no slope
        # finite differences could measure (with eps under the root, 1 / sqrt(eps))
        values = rng.standard_normal(shape).round(2)
        return np.where(values == 0, 0.01, values)

    q, k, v = draw(tokens, dim), draw(tokens, dim), draw(tokens, dim)
    output_gradient = draw(tokens, dim)
    score = make_score(name, dim, dim, hidden_dim=dim, max_keys=tokens + 1).to(np.float64)
    parameters = dict(score.named_parameters())
    weights = {}
    for lesson_name, dotted in WEIGHT_NAMES.get(name, []):  # drawn like the inputs, halved; beta 1.5
        shape = parameters[dotted].shape
        weights[lesson_name] = np.array([1.5]) if lesson_name == "beta" else (draw(*shape) / 2).round(2)
        parameters[dotted].data[...] = parameters[dotted].xp.asarray(weights[lesson_name])

    # forward and backward by the engine, keeping the intermediate gradients for the lesson
    Q, K, V = (ag.Tensor(array[None], requires_grad=True, dtype=np.float64) for array in (q, k, v))  # batch of 1
    S = score(Q, K).retain_grad()  # (1, T, S)
    A = ag.softmax(S).retain_grad()
    (A @ V).backward(output_gradient[None])
    s, a = S.numpy()[0], A.numpy()[0]
    engine_dk = np.zeros_like(k) if K.grad is None else K.grad[0]  # None: K never entered the graph (location)

    # backward by the formulas
    da = output_gradient @ v.T
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    dq, dk, weight_gradients = score_gradients(name, q, k, weights, ds)

    def output_from(query=q, key=k, value=v, **changed):  # O from any input or weight changed, for the differences
        return softmax_rows(numpy_scores(name, query, key, {**weights, **changed})) @ value

    title, formula, source = TITLES[name]
    steps = [
        Step("inputs", f"Q, K, V: (T, d) = ({tokens}, {dim})", [("Q", q), ("K", k), ("V", v)],
             note=f"{plural(tokens, 'token')}, each with a query, a key and a value of d = {dim} numbers."),
    ]
    if weights:
        shapes = ", ".join(f"{weight_name}: {array.shape}" for weight_name, array in weights.items())
        steps.append(Step("the score's weights", shapes, list(weights.items())))
    steps += [
        Step("scores", formula, [("S", s)], note="Row i scores query i against every key."),
        Step("weights", "A = softmax(S), row by row", [("A", a)], note="Each row sums to 1."),
        Step("output", "O = A V", [("O", a @ v)], note="Row i is the average of the values, weighted by row i of A."),
        Step("the gradient that arrives", "dO = dL/dO, with L = sum(O * dO)", [("dO", output_gradient)],
             note=ARRIVING_NOTE),
        gradient_step("the values' gradient", "dV = A^T dO", "dV", a.T @ output_gradient, V.grad[0],
                      lambda value: output_from(value=value), v, output_gradient),
        gradient_step("through the softmax", "dA = dO V^T, dS = A * (dA - rowsum(dA * A))", "dS", ds, S.grad[0],
                      lambda scores: softmax_rows(scores) @ v, s, output_gradient,
                      note="The same for every score: only what comes next differs."),
        gradient_step("the queries' gradient", QUERY_FORMULAS[name], "dQ", dq, Q.grad[0],
                      lambda query: output_from(query=query), q, output_gradient),
        gradient_step("the keys' gradient", KEY_FORMULAS[name], "dK", dk, engine_dk,
                      lambda key: output_from(key=key), k, output_gradient,
                      note="The location score reads only how many keys there are, never their content: the "
                           "engine has no gradient for K at all, and it is 0." if name == "location" else ""),
    ]
    for lesson_name, dotted in WEIGHT_NAMES.get(name, []):
        steps.append(gradient_step(f"{lesson_name}'s gradient", WEIGHT_FORMULAS[name][lesson_name], f"d{lesson_name}",
                                   weight_gradients[lesson_name], parameters[dotted].grad,
                                   lambda value, lesson_name=lesson_name: output_from(**{lesson_name: value}),
                                   weights[lesson_name], output_gradient))
    return Lesson(f"{title}, its backward proved", f"O = softmax(S) V with {formula} ({source})", steps)


QUERY_FORMULAS = {
    "dot": "dQ = dS K", "scaled-dot": "dQ = dS K / sqrt(d)", "general": "dQ = dS P, P = K W",
    "additive": "dZ = dS[t, s] v^T * (1 - H^2); dQ = (sum over s of dZ) W^T",
    "cosine": "dQn = beta dS Kn; dQ = (dQn - Qn rowsum(dQn * Qn)) / |Q|", "location": "dQ = dS W[:, :n]^T",
}
KEY_FORMULAS = {
    "dot": "dK = dS^T Q", "scaled-dot": "dK = dS^T Q / sqrt(d)", "general": "dP = dS^T Q; dK = dP W^T",
    "additive": "dK = (sum over t of dZ) U^T", "cosine": "dKn = beta dS^T Qn; dK = (dKn - Kn rowsum(dKn * Kn)) / |K|",
    "location": "dK = 0",
}
WEIGHT_FORMULAS = {
    "general": {"W": "dW = K^T dP"},
    "additive": {"W": "dW = Q^T (sum over s of dZ)", "U": "dU = K^T (sum over t of dZ)",
                 "v": "dv = sum over t and s of dS[t, s] H[t, s]"},
    "cosine": {"beta": "dbeta = sum(dS * Qn Kn^T)"},
    "location": {"W": "dW[:, :n] = Q^T dS, 0 for the positions beyond"},
}
