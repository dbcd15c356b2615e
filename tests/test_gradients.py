"""Every op's backward against central differences in float64, on hypothesis-drawn inputs,
and every op keeps float32 inputs float32, forward and backward."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinybert.autograd as ag
from op_cases import CASES
from tinybert.autograd import Tensor, gradcheck

NOT_OPS = {"Tensor", "no_grad", "is_grad_enabled", "manual_seed", "default_device", "gradcheck",
           "compare_gradients", "GradientError", "DTypeError", "DeviceError", "GradcheckError", "to_dot"}


def test_every_exported_op_has_a_case():
    ops = set(ag.__all__) - NOT_OPS
    assert ops - {case.op for case in CASES} == set()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@given(data=st.data())
def test_backward_matches_finite_differences(case, data):
    arrays, arguments = data.draw(case.draw, label="inputs")
    tensors = [Tensor(array, requires_grad=True, dtype=np.float64) for array in arrays]
    assert gradcheck(lambda *inputs: case.call(*inputs, **arguments), *tensors)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@given(data=st.data())
def test_float32_inputs_give_float32_outputs_and_gradients(case, data):
    arrays, arguments = data.draw(case.draw, label="inputs")
    tensors = [Tensor(array, requires_grad=True, dtype=np.float32) for array in arrays]
    out = case.call(*tensors, **arguments)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert [tensor.grad.dtype for tensor in tensors] == [np.float32] * len(tensors)
