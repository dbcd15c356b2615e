"""What every tinybert command shares: the command group, the --device option, one-line errors with
their exit codes, output paths made before any work, and a run's handling of Ctrl-C and overflow."""

import contextlib
import json
import signal
from pathlib import Path

import click
import numpy as np

from .. import __version__
from ..autograd import allocator, backend
from ..checkpoint import saved_task, write_atomically


class TinybertGroup(click.Group):
    """Runs a command; a device that cannot be used, an unknown command or a bad option value (click's
    usage errors, three lines of its own), of tinybert's or of a command's, ends it with one line and exit
    code 2."""

    def make_context(self, info_name, args, parent=None, **extra):
        with usage_errors_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        try:
            with usage_errors_in_one_line():
                return super().invoke(ctx)
        except backend.DeviceError as error:
            click.echo(f"tinybert: error: {error}", err=True)
            ctx.exit(2)


NO_ARGUMENTS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click 8.2+: `tinybert` alone


@contextlib.contextmanager
def usage_errors_in_one_line():
    """click's UsageError as an InputError: its message and the --help to read, on one line (but the help
    that `tinybert` alone shows stays as click shows it)."""
    try:
        yield
    except click.UsageError as error:
        if isinstance(error, NO_ARGUMENTS_IS_HELP):
            raise
        command = error.ctx.command_path if error.ctx else "tinybert"
        raise InputError(f"{error.format_message().rstrip('.')} (see {command} --help)") from None


@click.group("tinybert", cls=TinybertGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinybert")
def main():
    """tinybert: attention, the Transformer and BERT, built line by line on a small NumPy autograd."""
    allocator.keep_freed_memory()


def device_option(command):
    """--device cpu|cuda: where the command's tensors live (default: TINYBERT_DEVICE, else cpu)."""
    def choose(ctx, parameter, device):
        backend.set_default_device(device)  # a GPU that cannot be used fails here, as one line
        ctx.call_on_close(lambda: backend.set_default_device(None))  # for this command only
        return device

    return click.option("--device", type=click.Choice(backend.DEVICES), default=None, expose_value=False,
                        callback=choose, help="Where to compute: cpu or cuda [default: TINYBERT_DEVICE, else cpu]."
                        )(command)


class RunError(click.ClickException):
    """A run that cannot go on: one line on stderr, exit code 1."""

    def show(self, file=None):
        click.echo(f"tinybert: error: {self.message}", err=True)


class InputError(RunError):
    """Bad input from the user: one line on stderr, exit code 2."""

    exit_code = 2


@contextlib.contextmanager
def reported_as_input_errors(*kinds):
    """Turn the given errors, caused by what the user passed, into one-line InputErrors."""
    try:
        yield
    except kinds as error:
        raise InputError(str(error)) from None


def make_room_for(path, directory=False):
    """Make the directory `path` (or, for a file, its folder) before any work, so that a path that cannot
    be written is one InputError at the start, not a traceback at the end."""
    folder = Path(path) if directory else Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot write {path}: {folder} cannot be made a directory ({error.strerror.lower()}): "
                         "choose another place") from None


def check_out_holds(out, task):
    """An --out directory that already holds a checkpoint of the other kind (a pretrained model where a
    fine-tuned one is to go, or the reverse) is refused: writing there would destroy it. `task` is
    "pretraining" or what a fine-tuned model is for ("classification", "squad", ...)."""
    if not (Path(out) / "config.json").is_file():
        return
    holds = saved_task(out) or "pretraining"
    if (holds == "pretraining") != (task == "pretraining"):
        raise InputError(f"{out} holds a {'pretrained model' if holds == 'pretraining' else 'fine-tuned model'}, "
                         "which this would overwrite: choose another --out")


def show_or_write(text, out_path):
    """Print the predictions, or write them to out_path whole (never half a file)."""
    if out_path:
        write_atomically(out_path, lambda temporary: Path(temporary).write_text(text))
    else:
        click.echo(text, nl=False)


def overflow_reported_by_the_loss_check():
    """Silence NumPy's overflow warnings while training: a run that overflows ends in a loss of NaN or
    infinity, which stops it with one line naming the step, and the warnings would only print before it."""
    return np.errstate(over="ignore", invalid="ignore")


class Interrupted(Exception):
    """Ctrl-C was pressed: the step in progress finished, and the run stops after it."""


@contextlib.contextmanager
def stop_at_ctrl_c():
    """Within the block, Ctrl-C (SIGINT) only asks the run to stop: it yields a function that says whether
    it was pressed, so the run can finish its step and save. A second Ctrl-C stops at once, as usual."""
    asked = []

    def ask(signal_number, frame):
        asked.append(True)
        signal.signal(signal.SIGINT, previous)  # the next Ctrl-C is the usual KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, ask)
    try:
        yield lambda: bool(asked)
    finally:
        signal.signal(signal.SIGINT, previous)


def train_with_a_log(train, run, out, report=None, save_best=None, save_progress=None, resumed=False, show=None,
                     save_every=None):
    """train(run, on_step), every step logged to out/metrics.jsonl (added to, for a resumed run) and given
    to show(metrics), where given, for a progress display. At an epoch's end the dev result is reported,
    and the model saved if it is the best so far; save_progress, where the run can resume, keeps what
    resuming needs then, every save_every steps where given, and at Ctrl-C. Ctrl-C stops the run after
    its step with Interrupted; NumPy's overflow warnings are silenced (a loss of NaN stops the run)."""
    with open(Path(out) / "metrics.jsonl", "a" if resumed else "w") as log, stop_at_ctrl_c() as stop_asked, \
            overflow_reported_by_the_loss_check():
        def on_step(metrics):
            log.write(json.dumps(metrics) + "\n")
            if show:
                show(metrics)
            if "dev" in metrics:
                report(metrics["dev"])
                if metrics["dev"]["best"]:
                    save_best(run, out)
            on_schedule = save_every is not None and metrics["step"] % save_every == 0
            if save_progress and ("dev" in metrics or on_schedule or stop_asked()):
                log.flush()
                save_progress(run, out)
            if stop_asked():
                raise Interrupted

        train(run, on_step)
