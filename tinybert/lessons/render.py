"""A lesson as terminal text or as a Markdown handout: the same steps, the same numbers."""

import textwrap

import numpy as np

from .lesson import TOLERANCE

WIDTH = 120       # side-by-side matrices wider than this go one under another
NOTE_WIDTH = 100  # notes wrap here


def matrix_lines(name, values):
    """A header with the shape, then one aligned line per row (a vector is one row)."""
    shape = np.shape(values)
    return [f"{name} {shape}"] + [
        "[" + " ".join(f"{round(value, 3) + 0.0:7.3f}" for value in row) + " ]"  # + 0.0: no "-0.000"
        for row in np.atleast_2d(values)]


def matrix_blocks(name, values):
    """The lines of each matrix: one block for a matrix or a vector, one per head for (heads, T, S)."""
    values = np.asarray(values)
    if values.ndim == 3 and values.shape[0] == 1:
        values = values[0]
    if values.ndim == 3:
        return [matrix_lines(f"{name}, head {number}", head) for number, head in enumerate(values, start=1)]
    return [matrix_lines(name, values)]


def side_by_side(blocks, indent="   "):
    """Blocks of lines next to each other when they fit in WIDTH, else one under another."""
    widths = [max(len(line) for line in block) for block in blocks]
    if sum(widths) + 3 * len(blocks) + len(indent) > WIDTH:
        return [indent + line for block in blocks for line in block + [""]][:-1]
    height = max(len(block) for block in blocks)
    return [indent + "   ".join((block[row] if row < len(block) else "").ljust(width)
                                for block, width in zip(blocks, widths)).rstrip() for row in range(height)]


def differences(check):
    return (f"formula vs engine: max difference {check.formula_difference:.1e};  engine vs finite differences: "
            f"max difference {check.numeric_difference:.1e}")


def verdict(check):
    return f"{differences(check)}  -> {'pass' if check.passed else 'FAIL'}"


def summary(lesson):
    return (f"every gradient agrees with its formula and with finite differences (pass: differences of at most "
            f"{TOLERANCE:g}; the matrices are printed to 3 decimals, the differences measured before rounding)"
            if lesson.passed else "FAILED: a gradient disagrees (see the FAIL above)")


def step_rows(step):
    """The step's matrices as rows of blocks to set side by side: its values in one row; a gradient's
    three ways (formula, engine, finite differences) in one row, or one row per head."""
    if step.check is None:
        return [[block for name, values in step.values for block in matrix_blocks(name, values)]]
    name = step.values[0][0]
    ways = [matrix_blocks(f"{name} {way}", values) for way, values in (
        ("by the formula", step.check.by_formula), ("by the engine", step.check.by_engine),
        ("by finite differences", step.check.numeric))]
    return [list(head) for head in zip(*ways)]  # row h: head h's three ways


def step_lines(step, indent):
    return [line for row in step_rows(step) for line in side_by_side(row, indent) + [""]][:-1]


def as_text(lesson):
    lines = [lesson.title, lesson.introduction, ""]
    for number, step in enumerate(lesson.steps, start=1):
        indent = " " * len(f"{number}. ")  # the body lines up under the title
        lines.append(f"{number}. {step.title}: {step.formula}")
        if step.note:
            lines += textwrap.wrap(step.note, NOTE_WIDTH, initial_indent=indent, subsequent_indent=indent)
        lines += step_lines(step, indent)
        if step.check is not None:
            lines.append(f"{indent}{verdict(step.check)}")
        lines.append("")
    return "\n".join(lines + textwrap.wrap(summary(lesson), NOTE_WIDTH)) + "\n"


def as_markdown(lesson):
    lines = [f"# {lesson.title}", "", lesson.introduction, ""]
    for number, step in enumerate(lesson.steps, start=1):
        lines += [f"## {number}. {step.title}", "", f"`{step.formula}`", ""]
        if step.note:
            lines += [step.note, ""]
        lines += ["```"] + step_lines(step, indent="") + ["```", ""]
        if step.check is not None:
            lines += [f"**{'Pass' if step.check.passed else 'FAIL'}**: {differences(step.check)}", ""]
    return "\n".join(lines + [summary(lesson)]) + "\n"
