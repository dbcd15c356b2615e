#!/usr/bin/env bash
# tinybert's checks on a real GPU, in one go, each stage with its own time limit:
#   bash benchmarks/gpu_checks.sh [OUT]        (OUT, default gpu-checks/, receives every log)
# 1. the step benchmark against PyTorch at mini and base size; 2. where the base step's time goes;
# 3. the test suite with TINYBERT_DEVICE=cuda (a quick hypothesis profile: 10 examples a test), with
#    the PyTorch cross-checks of the ops, the optimizers and attention; 4. `tinybert pretrain --tiny`.
# Run from a checkout (PYTHONPATH=.), with CuPy, PyTorch with CUDA, click, pytest and hypothesis installed.
# Each stage prints its exit status (124: it ran out of time); the script goes on to the next either way.
set -u -o pipefail
out=${1:-gpu-checks}
mkdir -p "$out"
export PYTHONPATH=. PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/machine.txt"
python -c "import cupy, torch, numpy; print('CuPy', cupy.__version__, '| PyTorch', torch.__version__, '| NumPy', numpy.__version__)" \
    | tee -a "$out/machine.txt"

echo "== 1. benchmark"
timeout -s INT 150 python benchmarks/pretraining_step.py --device cuda --sizes mini,base --steps 10 \
    --json "$out/benchmark.jsonl" 2>&1 | tee "$out/benchmark.txt" | tail -3
echo "   exit status $?"
echo "== 2. op times, base"
timeout -s INT 60 python benchmarks/op_times.py --device cuda --size base --steps 5 > "$out/op_times.txt" 2>&1
echo "   exit status $?"
head -16 "$out/op_times.txt"
echo "== 3. tests on the GPU"
TINYBERT_DEVICE=cuda HYPOTHESIS_PROFILE=quick timeout -s INT 900 python -m pytest -q -rf --tb=short -p no:cacheprovider \
    tests/test_*.py tests/parity/test_torch_ops.py tests/parity/test_torch_optim.py tests/parity/test_torch_attention.py \
    > "$out/tests.txt" 2>&1
echo "   exit status $?"
grep -E "^(FAILED|ERROR)|passed|failed" "$out/tests.txt" | tail -25
echo "== 4. tinybert pretrain --tiny --device cuda"
timeout -s INT 120 python -m tinybert pretrain --tiny --device cuda --out "$out/pretrained" > "$out/pretrain.txt" 2>&1
echo "   exit status $?"
tail -4 "$out/pretrain.txt"
