"""Hypothesis profiles: "dev" (the default, 40 examples a test, fresh ones each run) and "ci" (chosen when
CI is set, or with HYPOTHESIS_PROFILE=ci: 60 examples a test, in a fixed order, so a CI run repeats exactly)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
