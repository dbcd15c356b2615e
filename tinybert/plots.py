"""Pictures with matplotlib (the optional `plot` extra): attention maps, and a run's training curves.

matplotlib is imported only here, and only when a picture is asked for; without it, PlotError says how
to get it. Figures are drawn off screen (the Agg backend) and written as PNG.
"""

import math


class PlotError(RuntimeError):
    """A picture was asked for without matplotlib installed."""


def pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotError("pictures need matplotlib, which is not installed: pip install -e \".[plot]\" "
                        "(or pip install matplotlib)") from None
    matplotlib.use("Agg")  # no window: the figure goes straight to a file
    import matplotlib.pyplot as plt

    return plt


def attention_png(tokens, maps, path):
    """maps: {(layer, head): (T, T) weights}, numbered from 1; a heat map each, tokens on both axes."""
    plt = pyplot()
    columns = min(len(maps), 4)
    rows = math.ceil(len(maps) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.4 * rows), squeeze=False)
    for axis in axes.flat[len(maps):]:
        axis.axis("off")
    for axis, ((layer, head), weights) in zip(axes.flat, maps.items()):
        image = axis.imshow(weights, cmap="Blues", vmin=0, vmax=1)
        axis.set_title(f"layer {layer}, head {head}", fontsize=9)
        axis.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
        axis.set_yticks(range(len(tokens)), tokens, fontsize=7)
    figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="attention weight (row: query, column: key)")
    figure.savefig(path, dpi=110, format="png")
    plt.close(figure)


def training_curves_png(records, path):
    """A run's metrics.jsonl records: the losses, masked-LM and next-sentence accuracy, and the learning
    rate, by step; the held-out evaluation, when there is one, as points."""
    plt = pyplot()
    steps = [record for record in records if "loss" in record]
    held_out = [record for record in records if "held_out_mlm_accuracy" in record]
    x = [record["step"] for record in steps]
    figure, axes = plt.subplots(2, 2, figsize=(11, 7))
    panels = [("loss", ["loss", "mlm_loss", "nsp_loss"], "held_out_loss"),
              ("masked-LM accuracy", ["mlm_accuracy"], "held_out_mlm_accuracy"),
              ("next-sentence accuracy", ["nsp_accuracy"], "held_out_nsp_accuracy"),
              ("learning rate", ["learning_rate"], None)]
    for axis, (title, keys, held_out_key) in zip(axes.flat, panels):
        keys = [key for key in keys if key in steps[0]]  # a fine-tuning run logs no masked-LM accuracy
        if not keys:
            axis.axis("off")
            continue
        for key in keys:
            axis.plot(x, [record[key] for record in steps], label=key.replace("_", " "), linewidth=1)
        if held_out_key and held_out:
            axis.plot([record["step"] for record in held_out], [record[held_out_key] for record in held_out], "o",
                      label="held out")
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png")
    plt.close(figure)
