"""What graphs the project knows: edge-list file formats, and the registry of real networks.

The graphs are other people's data and are never copied into this repository. Each entry of
:data:`DATASETS` names the public file it comes from (repository, commit, path) and the SHA-256
of its content; :func:`sim.world.datasets.dataset_path` finds or downloads it. Scenarios name a
format and a dataset, so this module is read when a scenario is validated, and holds nothing
but names and facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EdgeListFormat(StrEnum):
    """How the lines of an edge-list file map to edges."""

    EDGELIST = "edgelist"
    MULTIGRAPH = "multigraph"
    JSON = "json"


@dataclass(frozen=True)
class Dataset:
    """A public graph known by name.

    Attributes
    ----------
    name : str
        Name used in scenarios (``graph: {kind: dataset, name: ...}``).
    files : tuple of str
        Accepted local file names (a ``.gz`` copy of the same content is fine).
    url : str
        Public source of the exact bytes (a file at a fixed commit).
    sha256 : str
        SHA-256 of the uncompressed content.
    directed : bool
        Whether an edge line ``u v`` is one-way.
    format : EdgeListFormat
        How lines map to edges.
    citation : str
        Whom to cite when using the graph.
    """

    name: str
    files: tuple[str, ...]
    url: str
    sha256: str
    directed: bool
    format: EdgeListFormat
    citation: str


def _gh(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_SNAP = "Leskovec & Krevl (2014), SNAP Datasets: Stanford Large Network Dataset Collection"
_ANWAR = "Anwar, Saveski & Roy (2021), Balanced Influence Maximization in the Presence of Homophily, WSDM"

DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("nethept", ("nethept.txt",),
            _gh("Henry-Hao/RandomWalking", "fc52e81a8882bb2d940c20059597b8d9f7b73594", "hep.txt"),
            "b73c191f06825d70a9b4b576f57135b05052313d83ce3cb867f297fcdab78527", False,
            EdgeListFormat.MULTIGRAPH,
            "Chen, Wang & Yang (2009), Efficient influence maximization in social networks, KDD"),
    Dataset("wiki-vote", ("wiki-Vote.txt",),
            _gh("shernaliu/CZ2001-Lab-4A", "2a8e17c9662e6e506edfa11b54777ce710e29081", "data/Wiki-Vote.txt"),
            "fcb5c3a9cb2d9109d0c193eed6c8e6af2941883dade9e736e6ab7a6103a5f469", True,
            EdgeListFormat.EDGELIST, f"Leskovec, Huttenlocher & Kleinberg (2010), CHI; {_SNAP}"),
    Dataset("ca-grqc", ("ca-GrQc.txt",),
            _gh("Hassan0284/Network-Analysis-Using-Graphs", "f5303bcebe8a13226f078ab1a5b757335e4d2d3a", "CA-GrQc.txt"),
            "db1eade81b60f5ff92b1e2160f51a27efd0c8ff4fc04ae77c4ed11817420b2b1", False,
            EdgeListFormat.EDGELIST, f"Leskovec, Kleinberg & Faloutsos (2007), ACM TKDD; {_SNAP}"),
    Dataset("ca-hepth", ("ca-HepTh.txt",),
            _gh("shernaliu/CZ2001-Lab-4A", "2a8e17c9662e6e506edfa11b54777ce710e29081", "data/CA-HepTh.txt"),
            "50b40f5a100448be98da1b7d0bb8fd72230e8d861760efadc3ba604b208438a1", False,
            EdgeListFormat.EDGELIST, f"Leskovec, Kleinberg & Faloutsos (2007), ACM TKDD; {_SNAP}"),
    Dataset("ego-facebook", ("facebook_combined.txt",),
            _gh("colingo1/triangle-counting", "3cd5eaeb1f369fd66b60a11b55e7ee2411f14315", "data/facebook_combined.txt"),
            "f41c026ed8af3cc3359f1ca5573d0605fb09ae0eefa34544b820fd8c6e2ef296", False,
            EdgeListFormat.EDGELIST, f"McAuley & Leskovec (2012), Learning to Discover Social Circles, NIPS; {_SNAP}"),
    Dataset("congress-twitter", ("congress.edgelist",),
            _gh("ttliang4/Social-Network-Analysis-of-Congressional-Twitter",
                "21881b273eca2c6936168c166353d7a49f625066", "data/congress.edgelist"),
            "9c4ad5040d18e40ff876f9c7eb77144ced415741883993f5e928fad7449d7551", True,
            EdgeListFormat.EDGELIST, f"Fink et al. (2023), Data in Brief 50:109521; {_SNAP}"),
    Dataset("twitter-hersheycareers", ("twitter_hersheycareers.json", "twitter_hersheycareers.json.gz"),
            _gh("Sanzeed/balanced_influence_maximization", "0797b8a8f536cac8023e128ab13eb532f902bcad",
                "raw_data/twitter_graphs/hersheycareers.json"),
            "d74e122337572b146a7971f0dc968de6d7a5b29c53947a81e24ad1f754943acd", True, EdgeListFormat.JSON, _ANWAR),
    Dataset("twitter-verizoncareers", ("twitter_verizoncareers.json.gz", "twitter_verizoncareers.json"),
            _gh("Sanzeed/balanced_influence_maximization", "0797b8a8f536cac8023e128ab13eb532f902bcad",
                "raw_data/twitter_graphs/verizoncareers.json"),
            "650df51469bf09eec6e3ac4b29d5a9d15e125e55f08a61752a08c672ff026675", True, EdgeListFormat.JSON, _ANWAR),
    Dataset("twitter-bofa-careers", ("twitter_bofa_careers.json.gz", "twitter_bofa_careers.json"),
            _gh("Sanzeed/balanced_influence_maximization", "0797b8a8f536cac8023e128ab13eb532f902bcad",
                "raw_data/twitter_graphs/bofa_careers.json"),
            "73d9e4b095cfcc15648f3d9b40c073f7b75ed184587476c680aee24a57a6c459", True, EdgeListFormat.JSON, _ANWAR),
)}
