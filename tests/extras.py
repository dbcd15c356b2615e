"""The optional extras a test may need, each skipped with the line that installs it. CI installs them all
and runs the tests that call these (.ci/run finds them by name)."""

import pytest


def needs_datasets():
    """Hugging Face `datasets` (the data extra), or a skip saying how to get it."""
    return pytest.importorskip("datasets", reason="the data extra (pip install -e \".[data]\") is not installed")
