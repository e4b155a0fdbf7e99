"""The outlet network: who copies whom, who leads, who follows, and which outlets move together.

`build_graph` turns articles and reuse pairs into a directed outlet graph with evidence on every edge,
coordination flags and Louvain communities; `export` writes it out; `draw` renders it as SVG.
"""

from newstrace.network.draw import family_timeline_svg, network_svg
from newstrace.network.export import export_all, network_summary, write_csv, write_gexf, write_graphml
from newstrace.network.graph import PairFlags, build_graph

__all__ = [
    "PairFlags",
    "export_all",
    "build_graph",
    "family_timeline_svg",
    "network_summary",
    "network_svg",
    "write_csv",
    "write_gexf",
    "write_graphml",
]
