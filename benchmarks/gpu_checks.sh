#!/usr/bin/env bash
# tinybert's checks on a real GPU, in one go, each stage with its own time limit (8.5 minutes in all at most):
#   bash benchmarks/gpu_checks.sh [OUT] [DEVICE]    (OUT, default gpu-checks/, receives six logs; DEVICE, default
#                                                    cuda: `cpu` rehearses the script itself on a machine without one)
# 1. the step benchmark against PyTorch at mini and base size (alone on the machine, as timings must be);
# 2. where the base step's time goes, op by op;
# 3. the whole test suite with TINYBERT_DEVICE set (a quick hypothesis profile: 10 examples a test), one pytest
#    process a test file, JOBS of them at a time, the slowest files first; beside it, `tinybert pretrain --tiny`.
# Run from a checkout (PYTHONPATH=.), with CuPy, PyTorch with CUDA, click, pytest and hypothesis installed.
# Each stage prints its exit status (124: it ran out of time); the script goes on to the next either way.
set -u -o pipefail
out=${1:-gpu-checks}
device=${2:-cuda}
half=$(( $(nproc) / 2 ))
jobs=${JOBS:-$(( half > 8 ? 8 : (half < 1 ? 1 : half) ))}  # pytest processes: half the cores, at most 8
mkdir -p "$out"
export PYTHONPATH=. PYTHONUNBUFFERED=1
if [ "$device" = cuda ]; then
    sizes=mini,base size=base
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/machine.txt"
    python -c "import cupy, torch, numpy; print('CuPy', cupy.__version__, '| PyTorch', torch.__version__,
               '| NumPy', numpy.__version__)" | tee -a "$out/machine.txt"
else
    sizes=tiny size=tiny
    echo "a rehearsal on the CPU: $(nproc) cores" | tee "$out/machine.txt"
fi

echo "== 1. benchmark ($sizes)"
timeout -s INT 150 python benchmarks/pretraining_step.py --device "$device" --sizes "$sizes" --steps 10 \
    --json "$out/benchmark.jsonl" > "$out/benchmark.txt" 2>&1
echo "   exit status $?"
tail -4 "$out/benchmark.txt"

echo "== 2. op times ($size)"
timeout -s INT 60 python benchmarks/op_times.py --device "$device" --size "$size" --steps 5 > "$out/op_times.txt" 2>&1
echo "   exit status $?"
head -16 "$out/op_times.txt"

echo "== 3. the tests on $device, $jobs files at a time, and tinybert pretrain --tiny beside them"
timeout -s INT 240 python -m tinybert pretrain --tiny --device "$device" --out "$(mktemp -d)/pretrained" \
    > "$out/pretrain.txt" 2>&1 &
pretrain=$!
logs=$(mktemp -d)
# the files that take longest on the CPU first, so that no long one starts last; then every other test file
slowest="tests/test_examples.py tests/test_pretrain_cli.py tests/test_gradients.py tests/test_properties.py"
everything=$(ls tests/test_*.py tests/parity/test_*.py | grep -vxF -f <(tr ' ' '\n' <<< "$slowest"))
# each file's log ends with its pytest's exit status; 5 (a file skipped whole, for want of an extra) counts as 0
# shellcheck disable=SC2016  # $0 and $1 belong to the inner shell: the log folder and a test file
printf '%s\n' $slowest $everything | TINYBERT_DEVICE=$device HYPOTHESIS_PROFILE=quick \
    timeout -s INT 300 xargs -P "$jobs" -n 1 sh -c 'log="$0/$(echo "$1" | tr / _).txt"
    python -m pytest -q -rfs --tb=short -p no:cacheprovider "$1" > "$log" 2>&1; code=$?
    echo "exit status $code" >> "$log"; [ $code -eq 5 ] || exit $code' "$logs"
echo "   exit status $? (123: some file failed)"
for log in "$logs"/*.txt; do echo "#### $(basename "$log" .txt)"; cat "$log"; done > "$out/tests.txt"
grep -hE "^(FAILED|ERROR)" "$logs"/*.txt
grep -H "^exit status" "$logs"/*.txt | grep -vE "exit status (0|5)$" | sed 's|.*/||'  # the files that failed
# the line before each log's exit status: "N passed, M skipped in S s"; their sum
tail -qn 2 "$logs"/*.txt | grep -oE "[0-9]+ (passed|failed|skipped|errors?)" \
    | awk '{count[$2] += $1} END {for (word in count) printf "   %d %s\n", count[word], word}'
wait "$pretrain"
echo "   pretrain --tiny: exit status $?"
tail -4 "$out/pretrain.txt"
