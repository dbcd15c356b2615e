"""Every example runs, in its fast mode, as a reader would run it: `python examples/NN_name.py --fast`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices import not_on_the_pretend_gpu

pytestmark = not_on_the_pretend_gpu  # each example runs in a fresh Python process
EXAMPLES = Path(__file__).parent.parent / "examples"
EXPECTED = {  # what each example must print (example 06 needs the MiniLM checkpoint, and 10 PyTorch: tests/parity
    # runs them)
    "01_backprop_by_hand.py": "dW1 (3, 4)   max |by hand - by the engine| =",
    "02_attention_backprop.py": "every gradient agrees with its formula and with finite differences",
    "03_copy_task.py": "copy: exact-match accuracy on 500 held-out sequences",
    "04_pretrain_tiny_bert.py": "held-out masked-LM accuracy",
    "05_finetune.py": "best dev accuracy",
    "07_albert_vs_bert.py": "ALBERT: both",
    "08_dates_attention.py": "exact match by source length, at the end",
    "09_knowledge_tracing.py": "each term at the end",
}


def run_example(name, *options):
    checkout = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}  # this checkout's tinybert, installed or not
    return subprocess.run([sys.executable, str(EXAMPLES / name), "--fast", *options], capture_output=True, text=True,
                          timeout=300, env=checkout)


def test_every_example_is_tested():
    assert sorted(path.name for path in EXAMPLES.glob("*.py")) == sorted(
        [*EXPECTED, "06_minilm_sentences.py", "10_ddp_continue_pretraining.py"])


@pytest.mark.parametrize("name", EXPECTED)
def test_the_example_runs_in_fast_mode_and_prints_its_result(name):
    completed = run_example(name)
    assert completed.returncode == 0, completed.stderr
    assert EXPECTED[name] in completed.stdout


def test_the_hand_derived_gradients_equal_the_engines():
    lines = [line for line in run_example("01_backprop_by_hand.py").stdout.splitlines() if "max |" in line]
    assert len(lines) == 4 and all(float(line.rsplit("= ", 1)[1]) < 1e-12 for line in lines)
