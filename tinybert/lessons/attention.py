"""The attention lesson: Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V, forward and backward.

The backward, derived once by hand (each line is the chain rule through one forward line):
    O = A V                 dA = dO V^T              dV = A^T dO
    A = softmax(S)          dS = A * (dA - rowsum(dA * A))     (the softmax's Jacobian, row by row)
    S = Q K^T / sqrt(d)     dQ = dS K / sqrt(d)      dK = dS^T Q / sqrt(d)
With a causal mask the softmax ignores the scores above the diagonal: A is 0 there, and so is dS.

With heads, Q, K and V are cut into `heads` slices of d = dim / heads columns, and every line above
runs on each slice at once (the arrays get a leading head axis); the heads' outputs, side by side,
are O. With projections, Q = X W_Q, K = X W_K, V = X W_V come first and Y = O W_O last, and the
backward adds the linear layers' two rules: for Z = X W, dW = X^T dZ and dX = dZ W^T (X feeds three
projections, so its gradient is the sum of three).
"""

import math

import numpy as np

from .. import autograd as ag
from ..models.attention import causal_mask
from .lesson import ARRIVING_NOTE, Lesson, Step, gradient_step, plural, softmax_rows


def split_heads(x, heads):
    """(T, dim) -> (heads, T, dim / heads): head i gets columns i * d .. (i + 1) * d - 1."""
    T, dim = x.shape
    return x.reshape(T, heads, dim // heads).transpose(1, 0, 2)


def merge_heads(x):
    """(heads, T, d) -> (T, heads * d): the heads side by side."""
    heads, T, d = x.shape
    return x.transpose(1, 0, 2).reshape(T, heads * d)


def attention_lesson(tokens=3, dim=4, seed=0, causal=False, heads=1, projections=False):
    """The lesson for one attention over `tokens` tokens of `dim` dimensions, numbers drawn from `seed`."""
    if dim % heads:
        raise ValueError(f"dim={dim} does not split into {heads} heads: choose a number of heads that divides it")
    rng = np.random.default_rng(seed)

    def draw(*shape):  # numbers of two decimals: easy to read, and to redo by hand
        return rng.standard_normal(shape).round(2)

    x, weights = draw(tokens, dim), {name: (draw(dim, dim) / math.sqrt(dim)).round(2) for name in "QKVO"}
    q, k, v = (x @ weights[name] for name in "QKV") if projections else (draw(tokens, dim) for _ in range(3))
    output_gradient = draw(tokens, dim)                                           # dO, or dY with projections
    mask = causal_mask(tokens) if causal else np.ones((tokens, tokens), dtype=bool)  # (T, T)
    root = math.sqrt(dim // heads)

    def from_scores(scores, value):             # (heads, T, T), (T, dim) -> O (T, dim)
        return merge_heads(softmax_rows(scores, mask) @ split_heads(value, heads))

    def from_qkv(query, key, value):
        return from_scores(split_heads(query, heads) @ split_heads(key, heads).transpose(0, 2, 1) / root, value)

    def to_output(attended):                    # O -> what the lesson outputs: Y = O W_O, or O itself
        return attended @ weights["O"] if projections else attended

    # forward, by the engine, keeping the intermediate gradients for the lesson
    X = ag.Tensor(x, requires_grad=True, dtype=np.float64)
    W = {name: ag.Tensor(array, requires_grad=True, dtype=np.float64) for name, array in weights.items()}
    if projections:
        Q, K, V = ((X @ W[name]).retain_grad() for name in "QKV")
    else:
        Q, K, V = (ag.Tensor(array, requires_grad=True, dtype=np.float64) for array in (q, k, v))

    def tensor_heads(tensor):  # split_heads, on the engine's tensors
        return tensor.reshape(tokens, heads, dim // heads).permute(1, 0, 2)

    S = (tensor_heads(Q) @ tensor_heads(K).transpose() / root).retain_grad()       # (heads, T, T)
    A = ag.softmax(S, mask=mask).retain_grad()                                      # (heads, T, T)
    O = (A @ tensor_heads(V)).permute(1, 0, 2).reshape(tokens, dim).retain_grad()   # (T, dim)
    (O @ W["O"] if projections else O).backward(output_gradient)
    s, a, o = S.numpy(), A.numpy(), O.numpy()

    # backward, by the formulas (the head axis first, as in the engine)
    do = output_gradient @ weights["O"].T if projections else output_gradient
    qh, kh, vh, doh = (split_heads(array, heads) for array in (q, k, v, do))
    da = doh @ vh.transpose(0, 2, 1)
    dv = merge_heads(a.transpose(0, 2, 1) @ doh)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    dq, dk = merge_heads(ds @ kh / root), merge_heads(ds.transpose(0, 2, 1) @ qh / root)

    masked_note = (" The entries above the diagonal are masked: A is 0 there, so dS is 0 there too - no "
                   "gradient reaches a score the softmax left out. The first query sees only its own key, so its row "
                   "of A is [1, 0, ...] whatever its score: its rows of dS and dQ are 0.") if causal else ""
    head_note = f" Each of the {heads} heads does this in its own d = {dim // heads} columns." if heads > 1 else ""
    steps = []
    if projections:
        steps += [Step("inputs", f"X: (T, dim) = ({tokens}, {dim}); W_Q, W_K, W_V, W_O: ({dim}, {dim})",
                       [("X", x)] + [(f"W_{name}", weights[name]) for name in "QKVO"],
                       note=f"{plural(tokens, 'token')} of {dim} numbers, and the four projections (no biases "
                            "here)."),
                  Step("projections", "Q = X W_Q, K = X W_K, V = X W_V", [("Q", q), ("K", k), ("V", v)])]
    else:
        steps.append(Step("inputs", f"Q, K, V: (T, dim) = ({tokens}, {dim})", [("Q", q), ("K", k), ("V", v)],
                          note=f"{plural(tokens, 'token')}, each with a query, a key and a value of d = {dim} "
                               "numbers."))
    steps += [
        Step("scores", "S = Q K^T / sqrt(d)", [("S", s)],
             note="Row i scores query i against every key; dividing by sqrt(d) keeps the scores near unit size."
                  + head_note + (" All scores are computed; the mask acts in the softmax." if causal else "")),
        Step("weights", "A = softmax(S), row by row" + (", keys after the query masked" if causal else ""),
             [("A", a)], note="Each row is a probability distribution over the keys: it sums to 1."),
        Step("output", "O = A V" + (", the heads side by side" if heads > 1 else ""), [("O", o)],
             note="Row i is the average of the values, weighted by row i of A."),
    ]
    if projections:
        steps += [Step("output projection", "Y = O W_O", [("Y", to_output(o))]),
                  Step("the gradient that arrives", "dY = dL/dY, with L = sum(Y * dY)", [("dY", output_gradient)],
                       note=ARRIVING_NOTE),
                  gradient_step("the output projection's gradient", "dW_O = O^T dY", "dW_O", o.T @ output_gradient,
                                W["O"].grad, lambda weight: o @ weight, weights["O"], output_gradient),
                  gradient_step("back into the heads", "dO = dY W_O^T", "dO", do, O.grad, to_output, o,
                                output_gradient)]
    else:
        steps.append(Step("the gradient that arrives", "dO = dL/dO, with L = sum(O * dO)", [("dO", do)],
                          note=ARRIVING_NOTE))
    steps += [
        gradient_step("the values' gradient", "dV = A^T dO", "dV", dv, V.grad,
                      lambda value: to_output(from_qkv(q, k, value)), v, output_gradient),
        gradient_step("the weights' gradient", "dA = dO V^T", "dA", da, A.grad,
                      lambda attention: to_output(merge_heads(attention @ vh)), a, output_gradient,
                      note="dA knows nothing of the mask: the softmax's backward, next, zeroes the masked entries."
                      if causal else ""),
        gradient_step("through the softmax", "dS = A * (dA - rowsum(dA * A))", "dS", ds, S.grad,
                      lambda scores: to_output(from_scores(scores, v)), s, output_gradient,
                      note="For each row a of A and g of dA, the softmax's Jacobian diag(a) - a a^T applied to g "
                           "is a * (g - a . g): no T x T Jacobian is ever formed." + masked_note),
        gradient_step("the queries' gradient", "dQ = dS K / sqrt(d)", "dQ", dq, Q.grad,
                      lambda query: to_output(from_qkv(query, k, v)), q, output_gradient),
        gradient_step("the keys' gradient", "dK = dS^T Q / sqrt(d)", "dK", dk, K.grad,
                      lambda key: to_output(from_qkv(q, key, v)), k, output_gradient),
    ]
    if projections:
        def forward_from(inputs=x, **projection):  # Y from X and the projections, any of them changed
            return to_output(from_qkv(*(inputs @ projection.get(name, weights[name]) for name in "QKV")))

        steps += [gradient_step(f"W_{name}'s gradient", f"dW_{name} = X^T d{name}", f"dW_{name}", x.T @ grad,
                                W[name].grad, lambda weight, name=name: forward_from(**{name: weight}), weights[name],
                                output_gradient) for name, grad in (("Q", dq), ("K", dk), ("V", dv))]
        steps.append(gradient_step("the input's gradient", "dX = dQ W_Q^T + dK W_K^T + dV W_V^T", "dX",
                                   dq @ weights["Q"].T + dk @ weights["K"].T + dv @ weights["V"].T, X.grad,
                                   forward_from, x, output_gradient,
                                   note="X feeds all three projections, so its gradient adds up three paths."))
    extras = [extra for extra, wanted in (("projections", projections), ("a causal mask", causal)) if wanted]
    title = ("Multi-head attention" if heads > 1 else "Scaled dot-product attention") + (
        " with " + " and ".join(extras) if extras else "")
    formula = "Attention(Q, K, V) = softmax(Q K^T / sqrt(d)" + (" + M" if causal else "") + ") V"
    if heads > 1:
        formula += ", per head; MultiHead = Concat(head_1, ..., head_h)" + (" W_O" if projections else "")
    mask_words = ", M = -inf above the diagonal" if causal else ""
    return Lesson(title, f"{formula}{mask_words} (Vaswani et al. 2017, equations 1 and 2)", steps)
