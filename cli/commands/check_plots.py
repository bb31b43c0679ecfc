"""Pictures of the model checker's results: a counterexample as swimlanes, and the explored
state graph (networkx) laid out by depth."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashsim.models.check.config import CheckConfig
    from flashsim.models.check.explorer import CheckResult, Counterexample

#: Above this many states a drawing of the graph is a blot: `draw_state_graph` refuses.
MAX_DRAWN_STATES = 3000


def plot_counterexample(cex: Counterexample, config: CheckConfig, path: str) -> None:
    """A swimlane picture: one lane per process, one box per step, the violating step red."""
    from flashsim.sim.figure_files import new_figure, write_figure

    lanes = [p.name for p in config.processes]
    fig = new_figure(figsize=(max(6.0, 0.5 * len(cex.events) + 2), 0.8 * len(lanes) + 1.5))
    ax = fig.subplots()
    for n, event in enumerate(cex.events, 1):
        y = lanes.index(event.process)
        last = n == len(cex.events)
        ax.barh(y, 0.9, left=n - 0.45, height=0.6, color="tab:red" if last else "tab:blue")
        label = event.phase if event.phase != "act" else event.detail.split(" ", 1)[0]
        ax.text(n, y, label, ha="center", va="center", fontsize=6, color="white", rotation=90)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_xlabel("step")
    ax.set_title(f"{cex.property}: {cex.message}", fontsize=8)
    ax.invert_yaxis()
    fig.tight_layout()
    write_figure(fig, path, dpi=120)


def draw_state_graph(result: CheckResult, path: str) -> None:
    """The explored graph: one column per depth, quiescent states green, terminal states
    black, the counterexample's path red; edges coloured by the process that stepped."""
    graph = result.graph
    if graph is None:
        raise ValueError("no explored graph: explore(..., keep_graph=True), without reductions")
    if graph.number_of_nodes() > MAX_DRAWN_STATES:
        raise ValueError(
            f"{graph.number_of_nodes()} states: a drawing shows at most {MAX_DRAWN_STATES} "
            "(bound the search with --max-states)"
        )
    import matplotlib
    import networkx as nx

    from flashsim.sim.figure_files import new_figure, write_figure

    pos = nx.multipartite_layout(graph, subset_key="depth")
    pos = {node: (x, -y) for node, (x, y) in pos.items()}
    names = sorted({name for _, _, name in graph.edges(data="process")})
    cmap = matplotlib.colormaps["tab10"]
    colour = {name: cmap(i % 10) for i, name in enumerate(names)}
    path_nodes = _counterexample_nodes(result)
    node_colours = []
    for node, attrs in graph.nodes(data=True):
        if node in path_nodes:
            node_colours.append("tab:red")
        elif attrs["terminal"]:
            node_colours.append("black")
        else:
            node_colours.append("tab:green" if attrs["quiescent"] else "lightgrey")
    depth = max((d for _, d in graph.nodes(data="depth", default=0)), default=0)
    fig = new_figure(figsize=(min(40.0, max(8.0, 2 + 0.6 * depth)), 8))
    ax = fig.subplots()
    size = max(4.0, 60.0 - graph.number_of_nodes() / 40)
    nx.draw_networkx_edges(
        graph,
        pos,
        ax=ax,
        edge_color=[colour[name] for _, _, name in graph.edges(data="process")],
        width=0.4,
        arrows=False,
        alpha=0.6,
    )
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=size, node_color=node_colours)
    for name in names:
        ax.plot([], [], color=colour[name], label=name)
    if names:  # (a search stopped at its first state has no step to colour)
        # beside the graph, not on it: the deepest states are drawn in the top right
        ax.legend(
            loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, title="step by",
            title_fontsize=7,
        )  # fmt: skip
    ax.set_title(
        f"{result.config} (mutant: {result.mutant or 'none'})\n{result.summary()}\n"
        "green: quiescent, black: terminal, red: the counterexample's path",
        fontsize=8,
    )
    ax.set_axis_off()
    fig.tight_layout()
    write_figure(fig, path, dpi=120)


def _counterexample_nodes(result: CheckResult) -> set[int]:
    """The states of the counterexample's path, followed through the graph by process."""
    cex = result.counterexample
    graph = result.graph
    if cex is None or graph is None:
        return set()
    node, nodes = 0, {0}
    for process in cex.schedule:
        nxt = [b for _, b, name in graph.out_edges(node, data="process") if name == process]
        if not nxt:  # the violating step's target was never stored
            break
        node = nxt[0]
        nodes.add(node)
    return nodes
