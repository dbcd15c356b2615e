"""A pretend GPU for machines without one: arrays that compute with NumPy but guard the border as CuPy does.

Code that runs on NumPy can still fail on CuPy, in two ways that NumPy never complains about:
  - turning a device array into a NumPy array without saying so (np.asarray(x), np.where(..., x, ...)
    through NumPy's own functions on a mix of arrays): CuPy raises "Implicit conversion to a NumPy array
    is not allowed", because it would be a silent copy from the GPU to the host;
  - giving a NumPy array to a CuPy function or operator (cupy.exp(numpy_array), device_array +
    numpy_array): CuPy raises "Unsupported type <class 'numpy.ndarray'>".
`pytest --device-double` installs this module as `cupy` and makes "cuda" the default device (conftest.py): every tensor of a test
then holds a DeviceArray, so host-only code in an op fails the test on the CPU, as it would on a GPU.
Explicit copies stay allowed, as in CuPy: `cupy.asarray(numpy_array)` to the device, `.get()` back.
Every read back to the host (`.get()`, `float(x)`, `bool(x)`, `.item()`, ...) is counted in
DeviceArray.host_reads: on a GPU each one makes the host wait until the device has caught up.
"""

import math
import sys
import types

import numpy as np

IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                       "NumPy array explicitly.")


def unwrap(value):
    """The NumPy arrays inside `value` (a DeviceArray, or a list, tuple or dict holding some); a NumPy array
    there is an error, as CuPy refuses one."""
    if isinstance(value, DeviceArray):
        return value.array
    if isinstance(value, np.ndarray):
        raise TypeError(f"Unsupported type {type(value)}: a NumPy array given to a device function "
                        "(copy it to the device first)")
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    return value


def unwrap_index(index):
    """An index may hold NumPy arrays: CuPy copies them to the device."""
    if isinstance(index, tuple):
        return tuple(unwrap_index(part) for part in index)
    return index if isinstance(index, np.ndarray) else unwrap(index)


def wrap(value):
    """NumPy results as device arrays; a NumPy scalar becomes a 0-d device array, as CuPy's reductions give."""
    if isinstance(value, (np.ndarray, np.generic)):
        return DeviceArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(item) for item in value)
    if isinstance(value, list):
        return [wrap(item) for item in value]
    return value


def on_device(function):
    """`function` (NumPy's) taking and giving device arrays."""
    def call(*args, **kwargs):
        return wrap(function(*unwrap(args), **unwrap(kwargs)))

    call.__name__ = getattr(function, "__name__", "function")
    return call


class DeviceArray(np.lib.mixins.NDArrayOperatorsMixin):
    """An array on the pretend GPU: NumPy inside, CuPy's rules at the border."""

    __cuda_array_interface__ = {}  # what marks an array as a GPU array (tinybert's backend.device_of)
    host_reads = 0  # how many times a value was brought back to the host (each makes the host wait for a GPU)

    def __init__(self, array):
        self.array = array

    def __array__(self, *args, **kwargs):
        raise TypeError(IMPLICIT_CONVERSION)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*unwrap(inputs), **unwrap(kwargs))
        if out is not None:  # in place: give back the device arrays that were written
            return out[0] if len(out) == 1 else out
        return wrap(result)

    def __array_function__(self, function, types, args, kwargs):
        return wrap(function(*unwrap(args), **unwrap(kwargs)))

    def read_back(self, convert):
        DeviceArray.host_reads += 1
        return convert(self.array)

    def get(self):
        """A NumPy copy: the explicit way back to the host."""
        return self.read_back(np.copy)

    def item(self, *index):
        return self.read_back(lambda array: array.item(*index))

    def tolist(self):
        return self.read_back(lambda array: array.tolist())

    def __getattr__(self, name):  # shape, dtype, reshape, sum, astype, T, ...
        if name.startswith("__"):  # not __array_interface__ and the like: NumPy would read the memory through them
            raise AttributeError(name)
        value = getattr(self.array, name)
        return on_device(value) if callable(value) else wrap(value)

    def __getitem__(self, index):
        return wrap(self.array[unwrap_index(index)])

    def __setitem__(self, index, value):
        if isinstance(value, np.ndarray) and value.ndim:  # CuPy takes NumPy scalars here, not NumPy arrays
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self.array[unwrap_index(index)] = unwrap(value) if isinstance(value, DeviceArray) else value

    def __len__(self):
        return len(self.array)

    def __iter__(self):
        return (wrap(row) for row in self.array)

    def __float__(self):
        return self.read_back(float)

    def __int__(self):
        return self.read_back(int)

    def __index__(self):
        return self.read_back(lambda array: array.__index__())

    def __bool__(self):
        return self.read_back(bool)

    def __repr__(self):
        return f"DeviceArray({self.array!r})"


class DeviceUfunc:
    """numpy.add and the like, for device arrays: called, reduced or applied `at` indices."""

    def __init__(self, ufunc):
        self.ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return on_device(self.ufunc)(*args, **kwargs)

    def at(self, target, index, values):
        self.ufunc.at(unwrap(target), unwrap_index(index), unwrap(values))

    def __getattr__(self, name):  # reduce, accumulate, nin, ...
        value = getattr(self.ufunc, name)
        return on_device(value) if callable(value) else value


class DeviceGenerator:
    """numpy.random.Generator drawing device arrays."""

    def __init__(self, generator):
        self.generator = generator

    def __getattr__(self, name):
        value = getattr(self.generator, name)
        return on_device(value) if callable(value) else value


def to_device(function):
    """cupy.asarray and the like: NumPy data is welcome, and copied, as a copy to a GPU is."""
    def call(value, *args, **kwargs):
        if isinstance(value, DeviceArray):
            return wrap(function(value.array, *args, **kwargs))
        return wrap(np.array(function(value, *args, **kwargs), copy=True))

    return call


class PretendCuPy(types.ModuleType):
    """The `cupy` module of the pretend GPU: NumPy's functions, on device arrays."""

    ndarray = DeviceArray
    random = types.SimpleNamespace(default_rng=lambda seed=None: DeviceGenerator(np.random.default_rng(seed)))
    cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, CUDARuntimeError=RuntimeError))

    def __getattr__(self, name):
        value = getattr(np, name)
        if name in ("asarray", "array", "ascontiguousarray"):
            return to_device(value)
        if isinstance(value, np.ufunc):
            return DeviceUfunc(value)
        if callable(value) and not isinstance(value, type):  # functions; dtypes and classes stay as they are
            return on_device(value)
        return value


cupy = PretendCuPy("cupy")


def erf(x):
    """cupyx.scipy.special.erf, in the dtype of `x`."""
    return DeviceArray(np.vectorize(math.erf, otypes=[x.dtype])(x.array))


def modules():
    """{module name: module} that make `import cupy` find the pretend GPU, and `import cupyx.scipy.special`
    its erf (GELU uses it)."""
    special = types.ModuleType("cupyx.scipy.special")
    special.erf = erf
    scipy = types.ModuleType("cupyx.scipy")
    scipy.special = special
    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = scipy
    return {"cupy": cupy, "cupyx": cupyx, "cupyx.scipy": scipy, "cupyx.scipy.special": special}


def install():
    """Put the pretend GPU in CuPy's place for the rest of the process (`pytest --device-double`)."""
    sys.modules.update(modules())
