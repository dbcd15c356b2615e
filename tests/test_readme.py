"""The README's Python examples run as written and print what their comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_examples_run_and_the_line_fit_converges():
    code = "\n".join(re.findall(r"```python\n(.*?)```", README.read_text(), re.S))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {})
    first_look, gradcheck_result, fit = printed.getvalue().splitlines()
    assert first_look == "sum mul" and gradcheck_result == "True"
    slope, intercept = map(float, fit.split())
    assert abs(slope - 3.0) < 1e-3 and abs(intercept - 0.5) < 1e-3
