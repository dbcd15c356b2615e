"""A lesson as terminal text or as a Markdown handout: the same steps, the same numbers."""

import textwrap

import numpy as np

WIDTH = 120       # side-by-side matrices wider than this go one under another
NOTE_WIDTH = 100  # notes wrap here


def matrix_lines(name, values):
    """A header with the shape, then one aligned line per row (a vector is one row)."""
    values = np.atleast_2d(values)
    return [f"{name} {values.shape if values.shape[0] > 1 else values.shape[1:]}"] + [
        "[" + " ".join(f"{round(value, 3) + 0.0:7.3f}" for value in row) + " ]" for row in values]  # no "-0.000"


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


def verdict(check):
    return (f"formula vs engine: max difference {check.formula_difference:.1e};  engine vs finite differences: "
            f"max difference {check.numeric_difference:.1e}  -> {'pass' if check.passed else 'FAIL'}")


def step_blocks(step):
    if step.check is None:
        return [block for name, values in step.values for block in matrix_blocks(name, values)]
    name = step.values[0][0]
    return [block for way, values in (("by the formula", step.check.by_formula), ("by the engine", step.check.by_engine),
                                      ("by finite differences", step.check.numeric))
            for block in matrix_blocks(f"{name} {way}", values)]


def as_text(lesson):
    lines = [lesson.title, lesson.introduction, ""]
    for number, step in enumerate(lesson.steps, start=1):
        lines.append(f"{number}. {step.title}: {step.formula}")
        if step.note:
            lines += textwrap.wrap(step.note, NOTE_WIDTH, initial_indent="   ", subsequent_indent="   ")
        lines += side_by_side(step_blocks(step))
        if step.check is not None:
            lines.append(f"   {verdict(step.check)}")
        lines.append("")
    lines.append("every gradient agrees with its formula and with finite differences" if lesson.passed
                 else "FAILED: a gradient disagrees (see the FAIL above)")
    return "\n".join(lines) + "\n"


def as_markdown(lesson):
    lines = [f"# {lesson.title}", "", lesson.introduction, ""]
    for number, step in enumerate(lesson.steps, start=1):
        lines += [f"## {number}. {step.title}", "", f"`{step.formula}`", ""]
        if step.note:
            lines += [step.note, ""]
        lines += ["```"] + [line[3:] for line in side_by_side(step_blocks(step))] + ["```", ""]
        if step.check is not None:
            lines += [f"**{'Pass' if step.check.passed else 'FAIL'}**: {verdict(step.check)}", ""]
    return "\n".join(lines)
