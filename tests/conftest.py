"""Hypothesis profiles: "dev" (the default, 40 examples a test, fresh ones each run) and "ci" (chosen when
CI is set, or with HYPOTHESIS_PROFILE=ci: 60 examples a test, in a fixed order, so a CI run repeats exactly).
And `--device-double`: every test on a pretend GPU (device_double.py) that refuses what CuPy refuses."""

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("quick", max_examples=10, deadline=None, derandomize=True,  # a slow device's first look
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser):
    parser.addoption("--device-double", action="store_true",
                     help="run on a pretend GPU that computes with NumPy but refuses silent copies to the host "
                          "and NumPy operands, as CuPy does (tests/device_double.py)")


@pytest.fixture
def pretend_gpu(monkeypatch):
    """The pretend GPU in CuPy's place for one test, whatever the run's device: device "cuda" is then
    device_double's, which counts every read back to the host in DeviceArray.host_reads."""
    import device_double
    from tinybert.autograd import backend

    for name, module in device_double.modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(backend, "_generators", {})  # what the test makes for "cuda" leaves with it
    monkeypatch.setattr(backend, "_kernels", {})
    return device_double


def pytest_configure(config):
    if config.getoption("--device-double"):
        import device_double

        device_double.install()
        os.environ["TINYBERT_DEVICE"] = "cuda"
