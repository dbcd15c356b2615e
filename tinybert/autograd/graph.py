"""The computation graph behind a result, as Graphviz DOT text (`dot -Tsvg graph.dot -o graph.svg` draws it).

One box per op, with the op's name and its output's shape; one ellipse per leaf: a parameter (filled
blue), under its dotted name when `names` gives it, or an input (white; a single number shows its
value, as the sqrt(d) attention divides by). Arrows run forward, from what an op read to what it made:
backward() walks them the other way.
"""


def graph_nodes(result):
    """Every tensor `result` was computed from, itself included, each once, in depth-first order."""
    seen, order, stack = set(), [], [result]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        order.append(tensor)
        stack.extend(reversed(tensor.parents))
    return order


def label(*lines):
    """A quoted DOT label of several lines (DOT's line break is the two characters \\n)."""
    return '"' + "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines) + '"'


def to_dot(result, names=None):
    """DOT text for the graph that computed `result`. names: {dotted name: tensor}, as
    dict(module.named_parameters()) gives, to label parameters."""
    label_of = {id(tensor): name for name, tensor in (names or {}).items()}
    nodes = graph_nodes(result)
    number = {id(tensor): position for position, tensor in enumerate(nodes)}
    lines = ["digraph tinybert {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];']
    for tensor in nodes:
        shape = str(tuple(tensor.shape))
        if tensor.parents:
            lines.append(f"  n{number[id(tensor)]} [shape=box, label={label(tensor.op, shape)}];")
        else:
            name = label_of.get(id(tensor)) or tensor.name or (
                "parameter" if tensor.requires_grad else
                f"constant {tensor.data.item():g}" if tensor.size == 1 else "input")  # a number, as sqrt(d)
            colour = "lightblue" if tensor.requires_grad else "white"
            lines.append(f"  n{number[id(tensor)]} [shape=ellipse, style=filled, fillcolor={colour}, "
                         f"label={label(name, shape)}];")
    for tensor in nodes:
        lines += [f"  n{number[id(parent)]} -> n{number[id(tensor)]};" for parent in tensor.parents]
    return "\n".join(lines + ["}"]) + "\n"
