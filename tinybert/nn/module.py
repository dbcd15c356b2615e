"""Module: the base of every layer and model, as in PyTorch.

A module's parameters and sub-modules are simply its attributes. Assign a `Parameter` and it is
a parameter; assign a Module and its parameters become yours under a dotted name:
`self.attn = MultiHeadAttention(...)` gives `attn.q.weight`, `attn.q.bias`, ...
"""

import numpy as np

from ..autograd import Tensor, backend


class Parameter(Tensor):
    """A tensor that a module trains: it requires a gradient, and `named_parameters()` finds it."""

    __slots__ = ()

    def __init__(self, data, dtype=None, device=None):
        super().__init__(data, requires_grad=True, dtype=dtype, device=device)
        self.data = self.data.copy()  # its own array: training must not write into the caller's


class StateDictError(KeyError):
    """A state dict that does not fit the module: a missing, unexpected or wrongly shaped entry."""

    def __str__(self):  # KeyError would print the message in quotes
        return str(self.args[0])


class Module:
    """The base class: subclasses set parameters and sub-modules in __init__ and define forward()."""

    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def named_children(self):
        """(name, module) for each sub-module attribute, in the order they were assigned."""
        return [(name, value) for name, value in vars(self).items() if isinstance(value, Module)]

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and every module inside it, depth first."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self):
        """(dotted name, parameter) for every parameter, each once even when shared (tied weights),
        under the name where it first appears."""
        seen = set()
        for module_name, module in self.named_modules():
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{module_name}.{name}" if module_name else name), value

    def parameters(self):
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self):
        """Forget every parameter's accumulated gradient (gradients add up until this is called)."""
        for parameter in self.parameters():
            parameter.zero_grad()

    def train(self, mode=True):
        """Training mode (dropout on) for this module and all inside it; returns self."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def to(self, target):
        """Move every parameter to a device ('cpu', 'cuda') or cast it to a dtype (np.float64), in
        place, so tied parameters stay one object; returns self."""
        for parameter in self.parameters():
            parameter.data = parameter.to(target).data
        return self

    def state_dict(self):
        """{dotted name: a NumPy copy of the parameter}, the plain arrays a checkpoint holds."""
        return {name: parameter.numpy().copy() for name, parameter in self.named_parameters()}

    def load_state_dict(self, state, strict=True):
        """Copy arrays into the parameters of the same names, in place (tied weights stay tied).

        strict (the default): an entry missing from `state`, an entry the module does not have, or an
        entry of the wrong shape is a StateDictError naming it. strict=False loads what matches by
        name and skips the rest (shapes must still agree)."""
        parameters = dict(self.named_parameters())
        if strict:
            missing = [name for name in parameters if name not in state]
            unexpected = [name for name in state if name not in parameters]
            if missing:
                raise StateDictError(f"the state dict has no entry {missing[0]!r} (and {len(missing) - 1} more "
                                     f"missing): was it saved from another model or configuration?")
            if unexpected:
                raise StateDictError(f"the state dict has an entry {unexpected[0]!r} that {type(self).__name__} "
                                     f"does not have (and {len(unexpected) - 1} more): pass strict=False to skip them")
        for name, parameter in parameters.items():
            if name not in state:
                continue
            array = np.asarray(backend.to_numpy(state[name]))  # a saved state is NumPy's; a live one may be on a GPU
            if array.shape != parameter.shape:
                raise StateDictError(f"entry {name!r} has shape {array.shape}, but the model's parameter has shape "
                                     f"{parameter.shape}: was it saved with another configuration?")
            parameter.data[...] = parameter.xp.asarray(array, dtype=parameter.dtype)

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()})"]
        for name, child in self.named_children():
            lines.extend(f"  {line}" for line in f"({name}): {child!r}".splitlines())
        return "\n".join(lines)

    def extra_repr(self):
        """The module's own settings, shown in its repr: `in_features=4, out_features=8`."""
        return ""


class ModuleList(Module):
    """A list of modules whose parameters are named by position: `layers.0.attn.q.weight`."""

    def __init__(self, modules=()):
        self._count = 0
        for module in modules:
            self.append(module)

    def append(self, module):
        setattr(self, str(self._count), module)
        self._count += 1

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        modules = [getattr(self, str(position)) for position in range(self._count)]
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __iter__(self):
        return (getattr(self, str(position)) for position in range(self._count))


class Sequential(ModuleList):
    """Modules applied one after the other: Sequential(a, b, c)(x) = c(b(a(x)))."""

    def __init__(self, *modules):
        super().__init__(modules)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x
