"""A parameter group laid end to end: every parameter, gradient and optimizer buffer of the group in one
flat array each, and each parameter's own arrays views of its stretch of them.

BERT base has about 200 parameters. Updating them one by one costs about 200 calls of the update, and
clipping costs about 400 more (a dot product and a scaling each); on a GPU every call launches a kernel,
at some microseconds of the host's time each, and together they took longer than the GPU's arithmetic.
With the group flat, Adam's update is one call over all of it and the gradient norm one dot product, as
in PyTorch's fused optimizers.

The views keep the flat arrays out of sight of the rest of tinybert: a model reads and writes
`parameter.data` (in place, loading a checkpoint) as before, and the backward writes each parameter's
gradient into its stretch of the flat gradient (the parameter's `grad_buffer`, autograd/tensor.py).
What breaks the arrangement is noticed, never relied on: an array replaced (`module.to(np.float64)`, an
optimizer state loaded anew) makes the group lay itself out again, and a step in which some parameter has
no gradient, or has one outside its stretch (set by hand), goes parameter by parameter. Two costs stay
out of sight: a parameter that missed a step's gradient has taken fewer steps than the rest of its group
from then on, so the group goes parameter by parameter for good (Adam's bias correction depends on the
count); and a parameter given to two optimizers makes each lay its group out again at every step.
"""

import numpy as np


class FlatGroup:
    """`parameters` (one device, one dtype) with their gradients and their buffers `buffer_names` (e.g.
    Adam's "mean", "mean_square"), each kind in one flat array: `flat.arrays["data"]`, `["grad"]`, and one
    per buffer name. `state` is the optimizer's {parameter: {buffer name: array, "step": int}}: buffers
    it holds already are copied in, and are replaced there by their views."""

    def __init__(self, parameters, state, buffer_names):
        self.parameters, self.buffer_names = list(parameters), tuple(buffer_names)
        xp, dtype = self.parameters[0].xp, self.parameters[0].dtype
        ends = np.cumsum([parameter.size for parameter in self.parameters])
        starts = ends - [parameter.size for parameter in self.parameters]
        self.arrays = {kind: xp.zeros(int(ends[-1]), dtype=dtype) for kind in ("data", "grad", *buffer_names)}  # (N,)
        # views[kind][i]: parameter i's stretch of arrays[kind], in the parameter's shape
        self.views = {kind: [flat[start:end].reshape(parameter.shape)
                             for parameter, start, end in zip(self.parameters, starts, ends)]
                      for kind, flat in self.arrays.items()}
        for index, parameter in enumerate(self.parameters):
            parameter.data = self.moved_in(parameter.data, "data", index)
            parameter.grad_buffer = self.views["grad"][index]
            if parameter.grad is not None:  # a gradient already there moves in too
                parameter.grad = self.moved_in(parameter.grad, "grad", index)
            if parameter in state:
                for name in self.buffer_names:
                    state[parameter][name] = self.moved_in(state[parameter][name], name, index)

    def moved_in(self, array, kind, index):
        """`array`'s values copied into parameter `index`'s view of arrays[kind]; returns the view."""
        view = self.views[kind][index]
        view[...] = array
        return view

    @staticmethod
    def possible(parameters):
        """Whether `parameters` can share flat arrays: there are some, all of one device and one dtype."""
        return len({(parameter.device, parameter.dtype) for parameter in parameters}) == 1

    def intact(self, state):
        """True while every parameter's array, and every buffer `state` holds for it, is still its view."""
        for index, parameter in enumerate(self.parameters):
            if parameter.data is not self.views["data"][index]:
                return False
            if parameter in state and any(state[parameter][name] is not self.views[name][index]
                                          for name in self.buffer_names):
                return False
        return True

    def ready(self, state):
        """True when one call can update the whole group: every parameter has its gradient in its view of
        the flat gradient, and all have taken the same number of steps (`state`'s "step")."""
        return (all(parameter.grad is self.views["grad"][index] for index, parameter in enumerate(self.parameters))
                and len({state[parameter]["step"] if parameter in state else 0 for parameter in self.parameters}) == 1)
