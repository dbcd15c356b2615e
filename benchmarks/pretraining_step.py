"""Time one BERT pretraining step (forward, backward, clipping, AdamW) in tinybert and in PyTorch eager.

    python benchmarks/pretraining_step.py                                # tiny and mini on the CPU
    python benchmarks/pretraining_step.py --device cuda --sizes mini,base

Both get the same work: BertForPreTraining at a preset size, vocabulary 8192, sequence 128, batch 32,
20 masked positions a sequence with the masked-LM head at those positions only, float32, dropout 0.1,
clipping at norm 1.0 and AdamW, and (on the CPU) the same number of threads. After warm-up the two
take turns, step for step, in one process, so a machine that slows down slows both; the medians are
reported with their ratio (tinybert / PyTorch: below 1 is tinybert faster), tokens a second, the
FLOP/s of the matrix products against this machine's own float32 matmul peak (one large matmul,
measured here), and peak memory (on the CPU each framework runs alone in a child process, and the
peak resident memory above what the process held before the model was made is reported; on a GPU,
the most each allocator held). tinybert's malloc keeps freed memory for reuse, as its command line
sets it (tinybert/autograd/allocator.py; in the shared process PyTorch's arrays come from the same
malloc). Without torch, tinybert alone is timed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import tinybert  # noqa: E402,F401  (first: it sets OpenBLAS's spin time, read when NumPy loads; see its __init__)
import numpy as np  # noqa: E402

from tinybert import autograd as ag  # noqa: E402
from tinybert.autograd import allocator, backend  # noqa: E402
from tinybert.models.bert import BertConfig, BertForPreTraining  # noqa: E402
from tinybert.models.config import PRESETS  # noqa: E402
from tinybert.optim import AdamW  # noqa: E402

VOCAB, SEQUENCE, BATCH, MASKED = 8192, 128, 32, 20


def random_batch(seed=0):
    """Token ids, segments, an all-real mask, sorted masked positions and their labels, NSP labels."""
    rng = np.random.default_rng(seed)
    input_ids = rng.integers(5, VOCAB, size=(BATCH, SEQUENCE))  # (B, T)
    segment_ids = (np.arange(SEQUENCE) >= SEQUENCE // 2).astype(np.int64)[None].repeat(BATCH, axis=0)  # (B, T)
    attention_mask = np.ones((BATCH, SEQUENCE), dtype=bool)
    masked_positions = np.sort(rng.permuted(np.tile(np.arange(1, SEQUENCE), (BATCH, 1)), axis=1)[:, :MASKED], axis=1)
    masked_labels = rng.integers(5, VOCAB, size=(BATCH, MASKED))  # (B, P)
    next_sentence_labels = rng.integers(0, 2, size=BATCH)  # (B,)
    return input_ids, segment_ids, attention_mask, masked_positions, masked_labels, next_sentence_labels


def matmul_flops(size):
    """The multiply-adds of the step's matrix products, times 2 (FLOPs), times 3 (forward, and backward
    to inputs and to weights)."""
    layers, H, I = (PRESETS[size][name] for name in ("num_layers", "hidden_size", "intermediate_size"))
    tokens = BATCH * SEQUENCE
    per_layer = 4 * tokens * H * H + 2 * BATCH * SEQUENCE * SEQUENCE * H + 2 * tokens * H * I  # q,k,v,out; QK^T, AV; FFN
    head = BATCH * MASKED * (H * H + H * VOCAB) + BATCH * H * H  # transform and decoder; pooler
    return 3 * 2 * (layers * per_layer + head)


class Tinybert:
    name = "tinybert"

    def __init__(self, size, device):
        self.device = device
        allocator.keep_freed_memory()  # as `tinybert pretrain` does (process-wide: PyTorch's arrays get it too)
        ag.manual_seed(0)
        self.model = BertForPreTraining(BertConfig.preset(size, VOCAB)).to(device)
        self.optimizer = AdamW(self.model.parameters(), lr=1e-4, weight_decay=0.01, eps=1e-6)
        batch = random_batch()
        xp = backend.module_for_device(device)
        self.batch = [xp.asarray(array) for array in batch]

    def step(self):
        input_ids, segment_ids, attention_mask, masked_positions, masked_labels, next_sentence_labels = self.batch
        self.model.train()
        mlm_logits, nsp_logits = self.model(input_ids, segment_ids, attention_mask, masked_positions)
        total = self.model.loss(mlm_logits, nsp_logits, masked_labels, next_sentence_labels)[0]
        self.optimizer.zero_grad()
        total.backward()
        self.optimizer.clip_grad_norm(1.0)
        self.optimizer.step()
        return total

    def synchronize(self):
        if self.device == "cuda":
            backend.module_for_device("cuda").cuda.runtime.deviceSynchronize()

    def gpu_memory(self):
        return backend.module_for_device("cuda").get_default_memory_pool().total_bytes()


class Torch:
    name = "PyTorch"

    def __init__(self, size, device):
        import torch

        from torch_bert import TorchBertForPreTraining

        self.torch, self.device = torch, device
        torch.manual_seed(0)
        preset = PRESETS[size]
        self.model = TorchBertForPreTraining(VOCAB, preset["hidden_size"], preset["num_layers"], preset["num_heads"],
                                             preset["intermediate_size"]).to(device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-4, weight_decay=0.01, eps=1e-6)
        self.batch = [torch.as_tensor(array, device=device) for array in random_batch()]

    def step(self):
        input_ids, segment_ids, attention_mask, masked_positions, masked_labels, next_sentence_labels = self.batch
        self.model.train()
        mlm_logits, nsp_logits = self.model(input_ids, segment_ids, attention_mask, masked_positions)
        total = self.model.loss(mlm_logits, nsp_logits, masked_labels, next_sentence_labels)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return total

    def synchronize(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def gpu_memory(self):
        return self.torch.cuda.max_memory_reserved()


def timed_steps(runners, warmup, steps):
    """{name: [seconds of each step]} and {name: [seconds the host took to queue each step's work]}, the
    runners taking turns step for step after `warmup` steps each. On a GPU the host queues kernels and
    goes on; a step whose queueing takes as long as the step itself is held up by the host, not the GPU."""
    for runner in runners:
        for _ in range(warmup):
            runner.step()
        runner.synchronize()
    times, queueing = ({runner.name: [] for runner in runners} for _ in range(2))
    for _ in range(steps):
        for runner in runners:
            started = time.perf_counter()
            runner.step()
            queueing[runner.name].append(time.perf_counter() - started)
            runner.synchronize()
            times[runner.name].append(time.perf_counter() - started)
    return times, queueing


def matmul_peak(device):
    """FLOP/s of one 4096 x 4096 float32 matrix product on `device`, the best of 5."""
    xp = backend.module_for_device(device)
    a = xp.asarray(np.random.default_rng(0).standard_normal((4096, 4096), dtype=np.float32))
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        a @ a
        if device == "cuda":
            xp.cuda.runtime.deviceSynchronize()
        best = min(best, time.perf_counter() - started)
    return 2 * 4096 ** 3 / best


def status_bytes(field):
    """A size from /proc/self/status in bytes: VmRSS (resident now) or VmHWM (the most ever resident).
    Not getrusage's ru_maxrss: a child started with fork and exec inherits the parent's peak there."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_memory_alone(framework, size):
    """Peak resident bytes above the start, of a child process that runs 3 steps of one framework."""
    completed = subprocess.run([sys.executable, __file__, "--memory-of", framework, "--sizes", size],
                               capture_output=True, text=True, check=True)
    return int(completed.stdout.split()[-1])


def measure_memory_of(framework, size):
    if framework == "PyTorch":
        import torch  # noqa: F401  (imported before the baseline: the library is not the step's memory)
    before = status_bytes("VmRSS")
    runner = (Torch if framework == "PyTorch" else Tinybert)(size, "cpu")
    for _ in range(3):
        runner.step()
    print(status_bytes("VmHWM") - before)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="tiny,mini", help="presets, comma-separated: " + ", ".join(PRESETS))
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--steps", type=int, default=10, help="timed steps of each framework")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true", help="time tinybert alone")
    parser.add_argument("--json", type=Path, help="also write the results here, one JSON object a size")
    parser.add_argument("--memory-of", choices=["tinybert", "PyTorch"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    sizes = arguments.sizes.split(",")
    if arguments.memory_of:
        return measure_memory_of(arguments.memory_of, sizes[0])
    try:
        import torch
        has_torch = not arguments.no_torch
    except ImportError:
        has_torch = False
    device = arguments.device
    if has_torch and device == "cpu":
        torch.set_num_threads(os.cpu_count())
    peak = matmul_peak(device)
    machine = (backend.module_for_device("cuda").cuda.runtime.getDeviceProperties(0)["name"].decode()
               if device == "cuda" else f"{os.cpu_count()} CPU cores")
    print(f"{machine}; float32 matmul peak {peak / 1e9:,.0f} GFLOP/s; NumPy {np.__version__}"
          + (f", PyTorch {torch.__version__}" if has_torch else "")
          + f"; vocabulary {VOCAB}, sequence {SEQUENCE}, batch {BATCH}, {MASKED} masked positions")
    results = []
    for size in sizes:
        runners = [Tinybert(size, device)] + ([Torch(size, device)] if has_torch else [])
        times, queueing = timed_steps(runners, arguments.warmup, arguments.steps)
        result = {"size": size, "device": device, "machine": machine, "matmul_peak_flops": peak}
        for runner in runners:
            median = statistics.median(times[runner.name])
            memory = (runner.gpu_memory() if device == "cuda" else peak_memory_alone(runner.name, size))
            result[runner.name] = {"median_seconds": median, "tokens_per_second": BATCH * SEQUENCE / median,
                                   "flops": matmul_flops(size) / median, "peak_memory_bytes": memory,
                                   "median_queueing_seconds": statistics.median(queueing[runner.name])}
        del runners
        results.append(result)
        line = f"{size:>5}: tinybert {result['tinybert']['median_seconds'] * 1e3:8.1f} ms"
        line += f" ({result['tinybert']['flops'] / 1e9:,.0f} GFLOP/s, {result['tinybert']['flops'] / peak:.0%} of peak,"
        line += f" {result['tinybert']['peak_memory_bytes'] / 2 ** 20:,.0f} MiB"
        line += f", host {result['tinybert']['median_queueing_seconds'] * 1e3:.1f} ms)" if device == "cuda" else ")"
        if has_torch:
            ratio = result["tinybert"]["median_seconds"] / result["PyTorch"]["median_seconds"]
            result["ratio"] = ratio
            line += (f"   PyTorch {result['PyTorch']['median_seconds'] * 1e3:8.1f} ms"
                     f" ({result['PyTorch']['peak_memory_bytes'] / 2 ** 20:,.0f} MiB"
                     + (f", host {result['PyTorch']['median_queueing_seconds'] * 1e3:.1f} ms" if device == "cuda" else "")
                     + f")   ratio {ratio:.2f}")
        print(line, flush=True)
    if arguments.json:
        arguments.json.write_text("".join(json.dumps(result) + "\n" for result in results))


if __name__ == "__main__":
    main()
