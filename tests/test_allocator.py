"""The command line's allocator setting: freed arrays are reused instead of mapped in afresh."""

import subprocess
import sys

import pytest

PAGE_FAULTS_OF_REPEATED_ARRAYS = """
import resource, sys
import numpy as np
from tinybert.autograd.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    np.ones(2_000_000, dtype=np.float32) * 2  # two 8 MB arrays, freed at once
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(setting):
    result = subprocess.run([sys.executable, "-c", PAGE_FAULTS_OF_REPEATED_ARRAYS, setting],
                            capture_output=True, text=True, check=True)
    return int(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the setting is glibc's, on Linux")
def test_keeping_freed_memory_saves_the_page_faults_of_arrays_allocated_again_and_again():
    # 100 arrays of 8 MB: mapped afresh, each faults in many of its 2,000 pages of 4 KB; reused, only the first few do
    assert page_faults("keep") * 5 < page_faults("default")
