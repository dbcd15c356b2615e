"""Bad input gets one clear error that says what was wrong and what to do."""

import sys

import numpy as np
import pytest

import tinybert.autograd as ag
from tinybert.autograd import DeviceError, Tensor, backend
from tinybert.autograd.tensor import make_result


def test_an_id_outside_the_embedding_table_names_the_valid_range():
    table = Tensor(np.zeros((5, 2)), requires_grad=True)
    with pytest.raises(IndexError, match=r"id 5 is outside the embedding table of 5 rows: ids must lie in 0..4"):
        ag.embedding(table, np.array([1, 5]))
    with pytest.raises(IndexError, match="id -1"):
        ag.embedding(table, np.array([-1]))
    with pytest.raises(TypeError, match="must be integers"):
        ag.embedding(table, np.array([1.0]))


def test_an_index_array_out_of_range_is_an_error_not_a_wraparound():
    with pytest.raises(IndexError, match="index 3 is out of range for axis 1 of size 3"):
        ag.getitem(Tensor(np.zeros((2, 3))), (slice(None), np.array([0, 3])))


def test_a_list_index_is_checked_like_an_array():
    with pytest.raises(IndexError, match="index 5 is out of range for axis 0 of size 2"):
        Tensor([1.0, 2.0])[[0, 5]]


def test_gradcheck_of_an_empty_input_says_there_is_nothing_to_check():
    with pytest.raises(ValueError, match="no element to check"):
        ag.gradcheck(ag.exp, Tensor(np.zeros(0), requires_grad=True, dtype=np.float64))


def test_a_target_outside_the_classes_is_an_error():
    with pytest.raises(IndexError, match=r"outside 0..2"):
        ag.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match="targets need the shape of logits without the last"):
        ag.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1, 2]))


def test_losses_name_a_bad_reduction_and_mismatched_shapes():
    with pytest.raises(ValueError, match="reduction='average' is not one of mean, sum, none"):
        ag.mse_loss(Tensor([1.0]), Tensor([1.0]), reduction="average")
    with pytest.raises(ValueError, match="give them one shape"):
        ag.mse_loss(Tensor([1.0, 2.0]), Tensor([[1.0], [2.0]]))


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="boolean condition"):
        ag.where(np.array([1, 0]), Tensor([1.0, 2.0]), 0.0)


def test_dropout_rejects_a_probability_outside_zero_to_one():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ag.dropout(Tensor([1.0]), 1.5)


def test_asking_for_cuda_without_cupy_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if CuPy were not installed
    with pytest.raises(DeviceError, match=r"needs CuPy.*pip install -e \"\.\[gpu\]\""):
        Tensor([1.0], device="cuda")
    monkeypatch.setenv("TINYBERT_DEVICE", "cuda")
    with pytest.raises(DeviceError, match="needs CuPy"):
        Tensor([1.0])


def test_unknown_devices_are_named(monkeypatch):
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        Tensor([1.0], device="tpu")
    monkeypatch.setenv("TINYBERT_DEVICE", "gpu0")
    with pytest.raises(DeviceError, match="TINYBERT_DEVICE='gpu0' is not a device"):
        backend.default_device()


def test_matmul_of_a_number_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one axis"):
        ag.matmul(Tensor(2.0), Tensor([1.0]))


class ArrayOnTheGpu(np.ndarray):
    """Stands in for a CuPy array: tinybert tells a GPU array by its __cuda_array_interface__."""

    __cuda_array_interface__ = {}


def test_mixing_devices_in_one_op_says_how_to_move_a_tensor():
    on_gpu = make_result(np.ones(2).view(ArrayOnTheGpu), "leaf", (), None)
    assert on_gpu.device == "cuda"
    with pytest.raises(DeviceError, match=r"add got tensors on cpu and cuda: move them to one device with \.to"):
        Tensor([1.0, 2.0], device="cpu") + on_gpu


def test_cross_entropy_with_no_ignore_index_refuses_a_minus_100_label():
    logits = Tensor(np.zeros((2, 2)))
    assert ag.cross_entropy(logits, np.array([0, -100])).item() == pytest.approx(np.log(2))  # -100 skipped by default
    with pytest.raises(IndexError, match=r"outside 0..1: targets are class indices$"):
        ag.cross_entropy(logits, np.array([0, -100]), ignore_index=None)
