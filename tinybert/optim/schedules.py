"""Learning-rate schedules: a schedule is a plain function of the step, and `LRScheduler` writes its
value into the optimizer before each step.

    scheduler = LRScheduler(optimizer, lambda step: linear_warmup_decay(step, warmup_steps=100, total_steps=1000))
    for batch in batches:
        optimizer.zero_grad()
        loss = ...
        loss.backward()
        optimizer.step()      # uses this step's lr
        scheduler.step()      # sets the next step's lr
"""


class LRScheduler:
    """Sets every group's lr to (the lr it had when the scheduler was made) * multiplier(step), as
    torch.optim.lr_scheduler.LambdaLR. Steps count from 0: the lr for step 0 is set at once, and each
    `step()` moves on by one, so the n-th optimizer step (from 0) uses multiplier(n)."""

    def __init__(self, optimizer, multiplier):
        self.optimizer = optimizer
        self.multiplier = multiplier
        self.initial_lrs = [group["lr"] for group in optimizer.param_groups]
        self.step_count = 0
        self.set_lrs()

    def step(self):
        """Move on to the next step's learning rate."""
        self.step_count += 1
        self.set_lrs()

    def set_lrs(self):
        for group, initial_lr in zip(self.optimizer.param_groups, self.initial_lrs):
            group["lr"] = float(initial_lr * self.multiplier(self.step_count))  # lr = lr_0 * multiplier(step)


def linear_warmup_decay(step, warmup_steps, total_steps):
    """BERT's schedule, in the form of Hugging Face's get_linear_schedule_with_warmup: a multiplier
    that rises linearly from 0 at step 0 to 1 at `warmup_steps`, then falls linearly to 0 at
    `total_steps` and stays there. Steps count from 0, as LRScheduler counts them.

    (google-research/bert's optimization.py measures the decay from step 0 rather than from the end of
    warmup, so its peak is 1 - warmup_steps / total_steps; the two agree after warmup up to that factor.)"""
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps={warmup_steps} must lie in 0..total_steps={total_steps}: "
                         "warmup is a part of training, often the first 1% to 10% of it")
    if step < warmup_steps:
        return step / warmup_steps
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def inverse_square_root(step, d_model, warmup_steps, factor=1.0):
    """The Transformer paper's learning rate (Vaswani et al. 2017, section 5.3):
    lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5), rising linearly for
    `warmup_steps` steps, peaking at step == warmup_steps, then falling as 1 / sqrt(step).

    It is the learning rate itself, so give the optimizer lr=1.0 to use it as LRScheduler's multiplier,
    as The Annotated Transformer does. Steps count from 1; step 0 (where LRScheduler starts) counts as
    step 1, as in The Annotated Transformer."""
    if not warmup_steps > 0:
        raise ValueError(f"warmup_steps={warmup_steps} must be positive: the schedule divides by it "
                         "(the paper uses 4000)")
    step = max(step, 1)
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup_steps ** -1.5)
