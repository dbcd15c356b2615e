"""Where one BERT pretraining step's time goes, op by op: forward, backward and the optimizer.

    python benchmarks/op_times.py                      # mini on the CPU
    python benchmarks/op_times.py --size base --device cuda

The step is pretraining_step.py's (same model, batch and optimizer). Every op's forward and backward
is timed, with the device synchronised before each clock reading on a GPU, and the totals per op
name are printed, largest first, in milliseconds a step (medians over the timed steps). Timing each
op adds its own overhead (on a GPU it also stops the host from running ahead of the device), so
read the table for proportions, and pretraining_step.py for the step time.
"""

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pretraining_step import Tinybert  # noqa: E402

from tinybert.autograd import tensor  # noqa: E402
from tinybert.models.config import PRESETS  # noqa: E402


class OpClock:
    """Wraps tensor.make_result, the one door every op's result goes through, to time each op: its
    forward is the time since the previous op's result was made, its backward the time its backward takes."""

    def __init__(self, synchronize):
        self.synchronize = synchronize
        self.forward, self.backward = collections.Counter(), collections.Counter()
        self.last = time.perf_counter()
        self.original = tensor.make_result

    def now(self):
        self.synchronize()
        return time.perf_counter()

    def make_result(self, data, op, parents, backward):
        started = self.last
        self.forward[op] += self.now() - started
        result = self.original(data, op, parents, self.timed_backward(op, backward))
        self.last = self.now()
        return result

    def timed_backward(self, op, backward):
        def timed(grad):
            started = self.now()
            grads = backward(grad)
            self.backward[op] += self.now() - started
            return grads
        return timed

    def install(self):
        """Point every tinybert module that imported make_result at the timed one."""
        for module in list(sys.modules.values()):
            if (getattr(module, "__name__", "").startswith("tinybert")
                    and getattr(module, "make_result", None) is self.original):
                module.make_result = self.make_result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="mini", choices=list(PRESETS))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--steps", type=int, default=5)
    arguments = parser.parse_args()
    runner = Tinybert(arguments.size, arguments.device)
    for _ in range(3):
        runner.step()
    clock = OpClock(runner.synchronize)
    clock.install()
    phases, forward_times, backward_times = (collections.defaultdict(list) for _ in range(3))
    model, optimizer = runner.model, runner.optimizer
    input_ids, segment_ids, attention_mask, masked_positions, masked_labels, next_sentence_labels = runner.batch
    for _ in range(arguments.steps):
        clock.forward.clear(), clock.backward.clear()
        started = clock.last = clock.now()
        mlm_logits, nsp_logits = model(input_ids, segment_ids, attention_mask, masked_positions)
        total = model.loss(mlm_logits, nsp_logits, masked_labels, next_sentence_labels)[0]
        forward_done = clock.now()
        optimizer.zero_grad()
        total.backward()
        backward_done = clock.now()
        optimizer.clip_grad_norm(1.0)
        optimizer.step()
        phases["forward"].append(forward_done - started)
        phases["backward"].append(backward_done - forward_done)
        phases["clip + optimizer"].append(clock.now() - backward_done)
        for op in set(clock.forward) | set(clock.backward):
            forward_times[op].append(clock.forward[op])
            backward_times[op].append(clock.backward[op])
    print(f"{arguments.size} on {arguments.device}, ms a step (medians of {arguments.steps}): "
          + ", ".join(f"{name} {statistics.median(times) * 1e3:.1f}" for name, times in phases.items()))
    print(f"{'op':<16}{'forward':>10}{'backward':>10}")
    medians = {op: (statistics.median(forward_times[op]) * 1e3, statistics.median(backward_times[op]) * 1e3)
               for op in forward_times}
    for op, (forward, backward) in sorted(medians.items(), key=lambda item: -sum(item[1])):
        print(f"{op:<16}{forward:>10.1f}{backward:>10.1f}")


if __name__ == "__main__":
    main()
