"""The pretend GPU of `pytest --device-double` refuses what CuPy refuses, and computes what NumPy computes."""

import numpy as np
import pytest

from device_double import DeviceArray, cupy


def test_a_device_array_refuses_to_become_a_numpy_array_without_get():
    on_device = cupy.asarray(np.arange(3.0))
    assert isinstance(on_device, DeviceArray)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(on_device)
    np.testing.assert_array_equal(on_device.get(), [0.0, 1.0, 2.0])


def test_numpy_arrays_are_refused_as_operands_and_as_values_to_write():
    on_device = cupy.zeros(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        on_device + np.ones(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        cupy.exp(np.ones(3))
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray"):
        on_device[:] = np.ones(3)


def test_copies_to_the_device_are_copies_and_results_stay_on_the_device():
    values = np.array([1.0, -2.0])
    on_device = cupy.asarray(values)
    values[0] = 7.0  # the device holds its own copy, as a GPU would
    total = (on_device * 2).sum()
    assert isinstance(total, DeviceArray) and total.shape == () and float(total) == -2.0
    assert isinstance(cupy.maximum(on_device, 0), DeviceArray)
