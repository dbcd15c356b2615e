"""The optimizers: SGD with momentum, Adam and AdamW, each as torch.optim computes it.

An optimizer holds parameter groups: dicts with "params" (a list of Parameters) and the group's
hyperparameters ("lr", "weight_decay", ...); a group may override the optimizer's defaults, and a
schedule sets each group's "lr" between steps. `step()` updates, in place, every parameter that has
a gradient, from that gradient and the state the optimizer keeps for the parameter (a velocity, or
Adam's moving averages); `zero_grad()` clears the gradients, which otherwise add up.
"""

from functools import partial

import numpy as np

from ..autograd import Tensor, backend, parallel
from ..nn import LayerNorm
from .clipping import clip_gradients
from .flat import FlatGroup

BUFFERS = ("mean", "mean_square")  # Adam's moving averages of the gradient and of its square
GROUP_KEYS = ("params", "names")  # what a group holds besides hyperparameters; "names" is for reading only


class Optimizer:
    """The base: parameter groups, `zero_grad()`, and `step()`, which calls the subclass's
    `update(parameter, group, state)` once for each parameter that has a gradient."""

    def __init__(self, params, **defaults):
        self.defaults = defaults
        self.param_groups = [self.checked_group(group) for group in as_groups(params)]
        self.state = {}  # parameter -> its buffers, made by new_state() at its first step
        every_parameter = self.parameters()
        if len({id(parameter) for parameter in every_parameter}) < len(every_parameter):
            raise ValueError(f"{type(self).__name__} got a parameter twice: give each parameter to one group "
                             "(model.parameters() lists a tied weight once)")

    def checked_group(self, group):
        """`group` with the defaults filled in, every key known and every hyperparameter checked."""
        if "params" not in group:
            raise ValueError(f"a parameter group of {type(self).__name__} has no 'params': give it a list of them")
        unknown = sorted(set(group) - set(GROUP_KEYS) - set(self.defaults))
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} in a parameter group of {type(self).__name__}: "
                             f"use {', '.join(GROUP_KEYS + tuple(self.defaults))}")
        group = {**self.defaults, **group, "params": list(group["params"])}
        for parameter in group["params"]:
            if not (isinstance(parameter, Tensor) and parameter.requires_grad and parameter.is_leaf):
                raise TypeError(f"{type(self).__name__} got a {type(parameter).__name__} where a Parameter belongs: "
                                "pass model.parameters(), or parameter_groups(model, weight_decay)")
        return checked_hyperparameters(group)

    def step(self):
        """Update every parameter that has a gradient; a parameter whose grad is None is left alone."""
        for group in self.param_groups:
            self.step_group(group)

    def step_group(self, group):
        """Update the parameters of one group, one by one."""
        for parameter in group["params"]:
            if parameter.grad is None:
                continue
            if parameter not in self.state:
                self.state[parameter] = self.new_state(parameter)
            self.update(parameter, group, self.state[parameter])

    def clip_grad_norm(self, max_norm):
        """clip_grad_norm(self.parameters(), max_norm), on whole flat gradients where the optimizer keeps
        them (Adam's): returns the norm before clipping."""
        return clip_gradients(self.gradients(), max_norm)

    def gradients(self):
        """The arrays that hold the gradients of this optimizer's parameters, each gradient once."""
        return [parameter.grad for parameter in self.parameters() if parameter.grad is not None]

    def zero_grad(self):
        """Forget every parameter's gradient (set it to None), ready for the next backward."""
        for group in self.param_groups:
            for parameter in group["params"]:
                parameter.zero_grad()

    def state_dict(self):
        """The buffers of every parameter as plain NumPy arrays, named "<parameter number>.<buffer>",
        parameters numbered in the order of the groups: what a checkpoint saves to resume a run."""
        arrays = {}
        for number, parameter in enumerate(self.parameters()):
            for key, value in self.state.get(parameter, {}).items():
                # a copy: the optimizer updates its buffers in place, and a state dict is a snapshot
                arrays[f"{number}.{key}"] = np.array(backend.to_numpy(value) if hasattr(value, "shape") else value)
        return arrays

    def load_state_dict(self, arrays):
        """Restore the buffers that state_dict() saved, onto the parameters' own device and dtype."""
        parameters = self.parameters()
        for name, array in arrays.items():
            number, key = name.split(".", 1)
            if not number.isdigit() or int(number) >= len(parameters):
                raise ValueError(f"optimizer state entry {name!r} names no parameter of this optimizer "
                                 f"({len(parameters)} parameters): was it saved for another model?")
            parameter = parameters[int(number)]
            buffers = self.state.setdefault(parameter, {})
            buffers[key] = int(array) if array.ndim == 0 else parameter.xp.asarray(array, dtype=parameter.dtype)

    def parameters(self):
        return [parameter for group in self.param_groups for parameter in group["params"]]

    def new_state(self, parameter):
        raise NotImplementedError(f"{type(self).__name__} must define new_state()")

    def update(self, parameter, group, state):
        raise NotImplementedError(f"{type(self).__name__} must define update()")


def as_groups(params):
    """A list of parameter groups from either a list of groups or an iterable of parameters (one group)."""
    if isinstance(params, Tensor):  # a tensor is iterable, by rows: catch it before list() splits it
        raise TypeError("the optimizer got one tensor, not a list of them: pass [weight], or model.parameters()")
    params = list(params)
    if not params:
        raise ValueError("the optimizer got no parameters: pass model.parameters(), "
                         "or parameter_groups(model, weight_decay)")
    return params if isinstance(params[0], dict) else [{"params": params}]


def checked_hyperparameters(group):
    """`group` with its hyperparameters checked and made Python floats (an np.float64 learning rate
    would turn float32 updates into float64 ones)."""
    for key in ("lr", "eps", "weight_decay"):
        if key in group:
            if not group[key] >= 0:
                raise ValueError(f"{key}={group[key]!r} is negative: {key} must be 0 or more")
            group[key] = float(group[key])
    if "momentum" in group:
        if not 0 <= group["momentum"] < 1:
            raise ValueError(f"momentum={group['momentum']!r} is outside [0, 1): "
                             "it is the part of the velocity kept each step, e.g. 0.9")
        group["momentum"] = float(group["momentum"])
    if "betas" in group:
        betas = tuple(group["betas"])
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas={group['betas']!r} must be two decay rates in [0, 1), e.g. (0.9, 0.999)")
        group["betas"] = tuple(float(beta) for beta in betas)
    return group


def parameter_groups(module, weight_decay):
    """Two groups of `module`'s parameters: the first decays by `weight_decay`, the second, every bias and
    every LayerNorm weight, does not decay, as in BERT (google-research/bert's exclude_from_weight_decay)
    and Hugging Face: they are few and set offsets and scales, not how inputs mix, so decay would
    regularise little, and a LayerNorm weight pulled toward 0 silences its layer. Each group lists its
    parameters' dotted names under "names", for reading."""
    layer_norm_weights = {id(layer.weight) for _, layer in module.named_modules() if isinstance(layer, LayerNorm)}
    decay = {"params": [], "names": [], "weight_decay": weight_decay}
    no_decay = {"params": [], "names": [], "weight_decay": 0.0}
    for name, parameter in module.named_parameters():
        is_bias = name.split(".")[-1] == "bias"
        group = no_decay if is_bias or id(parameter) in layer_norm_weights else decay
        group["params"].append(parameter)
        group["names"].append(name)
    return [decay, no_decay]


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, in PyTorch's form (no dampening, no Nesterov):
    the velocity is the sum of all past gradients, each weighted by `momentum` once for every step
    since it came. Weight decay is L2, added to the gradient."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def new_state(self, parameter):
        return {"velocity": parameter.xp.zeros_like(parameter.data)}

    def update(self, parameter, group, state):
        grad = parameter.grad + group["weight_decay"] * parameter.data  # g = g + wd p
        state["velocity"] = group["momentum"] * state["velocity"] + grad  # v = mu v + g
        parameter.data -= group["lr"] * state["velocity"]  # p = p - lr v


class Adam(Optimizer):
    """Adam (Kingma and Ba 2015, Algorithm 1), as torch.optim.Adam: each element's step is the moving
    average of its gradient over the root of the moving average of its squared gradient. Weight decay
    is L2, added to the gradient, so Adam's scaling weakens it where gradients are large (AdamW fixes that)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        self.flat_groups = [self.flat_group(group["params"]) for group in self.param_groups]  # None: not possible

    def flat_group(self, parameters):
        """`parameters` laid out flat with their averages (flat.py), or None where they cannot be."""
        return FlatGroup(parameters, self.state, BUFFERS) if FlatGroup.possible(parameters) else None

    def step(self):
        """Update each group in one call when all its gradients are ready in its flat gradient, else
        parameter by parameter."""
        for number, group in enumerate(self.param_groups):
            flat = self.ready_flat_group(number)
            if flat is None:
                self.step_group(group)
                continue
            for index, parameter in enumerate(flat.parameters):
                if parameter not in self.state:
                    self.state[parameter] = {"step": 0, **{name: flat.views[name][index] for name in BUFFERS}}
                self.state[parameter]["step"] += 1
            self.move(*(flat.arrays[kind] for kind in ("data", "grad", *BUFFERS)), group,
                      self.state[flat.parameters[0]]["step"])

    def ready_flat_group(self, number):
        """Group `number`'s FlatGroup if every gradient of the group is in it, else None. A group whose
        arrays were replaced is laid out anew first."""
        flat = self.flat_groups[number]
        if flat is not None and not flat.intact(self.state):
            flat = self.flat_groups[number] = self.flat_group(self.param_groups[number]["params"])
            if flat is None:  # no longer one device and dtype: the old flat gradient is no place for theirs
                for parameter in self.param_groups[number]["params"]:
                    parameter.grad_buffer = None
        return flat if flat is not None and flat.ready(self.state) else None

    def gradients(self):
        """The flat gradient of each group that has every gradient in it, the others' gradients one by one
        (a group whose arrays were replaced is laid out anew first, a copy of all of it)."""
        arrays = []
        for number, group in enumerate(self.param_groups):
            flat = self.ready_flat_group(number)
            if flat is not None:
                arrays.append(flat.arrays["grad"])
            else:
                arrays.extend(parameter.grad for parameter in group["params"] if parameter.grad is not None)
        return arrays

    def new_state(self, parameter):
        xp = parameter.xp
        return {"step": 0, **{name: xp.zeros_like(parameter.data) for name in BUFFERS}}

    def update(self, parameter, group, state):
        state["step"] += 1
        self.move(parameter.data, parameter.grad, state["mean"], state["mean_square"], group, state["step"])

    def move(self, data, grad, mean, mean_square, group, step):
        """Adam's step number `step` on arrays (one parameter's, or a flat group's), in place: L2 weight
        decay added to the gradient."""
        self.adam_step(data, grad + group["weight_decay"] * data, mean, mean_square, group, step)  # g = g + wd p

    @staticmethod
    def adam_step(data, grad, mean, mean_square, group, step, decay=1.0):
        """Move `data` (first scaled by `decay`) by the bias-corrected moving averages of `grad` (m and v in
        the paper), which are updated in place: no new arrays each step."""
        beta1, beta2 = group["betas"]
        # both averages start at 0, so early on they are too small by a factor 1 - b^t: divide it out,
        # m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t)
        adam_update(data, grad, mean, mean_square, decay=decay, beta1=beta1, beta2=beta2,
                    step_size=group["lr"] / (1 - beta1 ** step), correction2=1 - beta2 ** step, eps=group["eps"])


def adam_rows(param, grad, mean, mean_square, decay, beta1, beta2, step_size, correction2, eps):
    """Adam's update for one block of rows of a parameter, in place:
    m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  p = decay p - step_size m / (sqrt(v / correction2) + eps),
    with step_size = lr / (1 - b1^t) and correction2 = 1 - b2^t."""
    mean *= beta1
    mean += (1 - beta1) * grad
    mean_square *= beta2
    mean_square += (1 - beta2) * grad * grad
    denominator = backend.array_module(param).sqrt(mean_square / correction2)
    denominator += eps
    if decay != 1:
        param *= decay
    param -= step_size * mean / denominator


# adam_rows as one CuPy kernel: the same arithmetic, element by element, in one launch instead of about twelve
# (the CUDA compiler may fuse a * b + c into one rounding, so a last bit can differ from NumPy's)
ADAM_KERNEL = ("T grad, T decay, T beta1, T beta2, T one_minus_beta1, T one_minus_beta2, T step_size, T correction2, "
               "T eps",
               "T param, T mean, T mean_square",
               "mean = beta1 * mean + one_minus_beta1 * grad;"
               "mean_square = beta2 * mean_square + one_minus_beta2 * grad * grad;"
               "param = decay * param - step_size * mean / (sqrt(mean_square / correction2) + eps);")


def adam_update(param, grad, mean, mean_square, decay, beta1, beta2, step_size, correction2, eps):
    """adam_rows over a whole parameter: in blocks of rows on every core (NumPy), or as one GPU kernel (CuPy)."""
    kernel = backend.elementwise_kernel(backend.array_module(param), "adam_update", *ADAM_KERNEL)
    if kernel is None:
        rows = partial(adam_rows, decay=decay, beta1=beta1, beta2=beta2, step_size=step_size,
                       correction2=correction2, eps=eps)
        # elementwise, so any rows will do: as (N, 1), rows of one number, even a flat group splits into blocks
        parallel.for_each_block(rows, *(array.reshape(-1, 1) for array in (param, grad, mean, mean_square)))
        return
    scalars = (decay, beta1, beta2, 1 - beta1, 1 - beta2, step_size, correction2, eps)  # ADAM_KERNEL's order
    kernel(grad, *(param.dtype.type(value) for value in scalars), param, mean, mean_square)  # scalars in param's dtype


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter 2019), as torch.optim.AdamW: the decay
    shrinks the weights directly, outside the moving averages, so every weight decays at the same rate
    whatever its gradients. (google-research/bert's AdamWeightDecayOptimizer decays the same way but
    leaves out the bias correction; Hugging Face and PyTorch keep it, and so does tinybert.)"""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def move(self, data, grad, mean, mean_square, group, step):
        decay = 1 - group["lr"] * group["weight_decay"]  # p = p - lr wd p, before Adam's step
        self.adam_step(data, grad, mean, mean_square, group, step, decay=decay)
