#!/usr/bin/env bash
# tinybert's checks on a real GPU, in one go, each stage with its own time limit (8.5 minutes in all at most):
#   bash benchmarks/gpu_checks.sh [OUT] [DEVICE]    (OUT, default gpu-checks/, receives six logs; DEVICE, default
#                                                    cuda: `cpu` rehearses the script itself on a machine without one)
# 1. the step benchmark against PyTorch at mini and base size (alone on the machine, as timings must be);
# 2. where the base step's time goes, op by op;
# 3. the whole test suite with TINYBERT_DEVICE set (a quick hypothesis profile: 10 examples a test), one pytest
#    process a test file, JOBS of them at a time, the slowest files first; beside it, `tinybert pretrain --tiny`.
# Run from a checkout (PYTHONPATH=.), with CuPy, PyTorch with CUDA, click, pytest and hypothesis installed.
# Each stage prints its exit status (124: it ran out of time, and 15 s after the interrupt it is killed); the
# script goes on to the next either way, and exits 1 if any stage did not end with 0.
set -u -o pipefail
out=${1:-gpu-checks}
device=${2:-cuda}
half=$(( $(nproc) / 2 ))
jobs=${JOBS:-$(( half > 8 ? 8 : (half < 1 ? 1 : half) ))}  # pytest processes: half the cores, at most 8
mkdir -p "$out"
export PYTHONPATH=. PYTHONUNBUFFERED=1
failed=0
ended() {  # ended STATUS: print a stage's exit status and remember a failure
    echo "   exit status $1"
    [ "$1" -eq 0 ] || failed=1
}
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
timeout -k 15 -s INT 150 python benchmarks/pretraining_step.py --device "$device" --sizes "$sizes" --steps 10 \
    --json "$out/benchmark.jsonl" > "$out/benchmark.txt" 2>&1
ended $?
tail -4 "$out/benchmark.txt"

echo "== 2. op times ($size)"
timeout -k 15 -s INT 60 python benchmarks/op_times.py --device "$device" --size "$size" --steps 5 \
    > "$out/op_times.txt" 2>&1
ended $?
head -16 "$out/op_times.txt"

echo "== 3. the tests on $device, $jobs files at a time, and tinybert pretrain --tiny beside them"
timeout -k 15 -s INT 240 python -m tinybert pretrain --tiny --device "$device" --out "$(mktemp -d)/pretrained" \
    > "$out/pretrain.txt" 2>&1 &
pretrain=$!
logs=$(mktemp -d)
# the files that take longest on the CPU first, so that no long one starts last; then every other test file
slowest="tests/test_examples.py tests/test_pretrain_cli.py tests/test_gradients.py tests/test_properties.py"
everything=$(ls tests/test_*.py tests/parity/test_*.py | grep -vxF -f <(tr ' ' '\n' <<< "$slowest"))
# each file's log ends with its pytest's exit status (the inner shell outlives the interrupt at the time
# limit, to write it); 5, a file skipped whole for want of an extra, counts as 0
# shellcheck disable=SC2016  # $0 and $1 belong to the inner shell: the log folder and a test file
printf '%s\n' $slowest $everything | TINYBERT_DEVICE=$device HYPOTHESIS_PROFILE=quick \
    timeout -k 15 -s INT 300 xargs -P "$jobs" -n 1 sh -c 'trap : INT; log="$0/$(echo "$1" | tr / _).txt"
    python -m pytest -q -rfs --tb=short -p no:cacheprovider "$1" > "$log" 2>&1; code=$?
    echo "exit status $code" >> "$log"; [ $code -eq 5 ] || exit $code' "$logs"
ended $?  # 123: some file failed; 124: out of time
sleep 3  # at the time limit: a moment for the files interrupted to write their exit status
echo "   $(ls "$logs" | wc -l) of $(printf '%s\n' $slowest $everything | wc -l) test files ran"
for log in "$logs"/*.txt; do echo "#### $(basename "$log" .txt)"; cat "$log"; done > "$out/tests.txt"
grep -hE "^(FAILED|ERROR)" "$logs"/*.txt
grep -H "^exit status" "$logs"/*.txt | grep -vE "exit status (0|5)$" | sed 's|.*/||'  # the files that failed
# the line before each log's exit status: "N passed, M skipped in S s"; their sum
tail -qn 2 "$logs"/*.txt | grep -oE "[0-9]+ (passed|failed|skipped|errors?)" \
    | awk '{count[$2] += $1} END {for (word in count) printf "   %d %s\n", count[word], word}'
echo "   pretrain --tiny:"
wait "$pretrain"
ended $?
tail -4 "$out/pretrain.txt"
exit "$failed"
