"""Adapters that run one case on each engine with the same graph, recruits and probabilities.

Every adapter exposes ``run_batch(k)`` (run ``k`` trials, return their final sizes or
their mean; for the campaign kernel, their totals rows) so the timing code treats them
alike. Building an adapter is its *setup* (reported separately, never counted in trials/s).

The campaign case has its own adapters (:class:`OursCampaignKernel`,
:class:`OursCampaignRun`, :class:`CampaignMesa`), all on one ``sim.execution.runner.prepare``
of the scenario file, so the kernel, ``run()`` and the Mesa engine read the same world
arrays and schedules.

Fairness notes (see also ``/work/shared/reference/peers.md``):

* cynetdiff is called as its documentation says: ``networkx_to_ic_model`` /
  ``networkx_to_lt_model`` on a ``DiGraph`` holding both directions of every edge,
  in node order 0..n-1 with out-edges in the same (sorted) order as our CSR. Its
  fastest path is the C loop ``compute_marginal_gains(seeds, [], k)`` ("bulk"),
  which returns only a float32 mean; per-trial sizes (for the standard error) come
  from the Python loop ``reset_model(); advance_until_completion()`` ("loop").
  The ratio floors are judged against the faster of the two.
* cynetdiff stores probabilities as float32 (``activation_prob=0.01`` becomes
  0.0099999998); heterogeneous probabilities are rounded to float32 before either
  engine sees them, so both use identical values.
* NDlib: the IC edge probabilities must cover *every* edge or it silently falls back
  to 1/out-degree (checked after configuration). ``GeneralThresholdModel`` sums, for
  an inactive node ``u``, the weight stored under ``(u, v)`` for each active
  in-neighbour ``v``, i.e. the weight of the *reverse* edge; we therefore store the
  weight of ``v -> u`` (= 1/in-degree(u)) under ``(u, v)``. Its node thresholds are
  fixed configuration, so each trial writes fresh U(0, 1) thresholds into
  ``model.params["nodes"]["threshold"]`` (O(n) Python per trial, small next to its
  O(m)-per-step iteration). NDlib reseeds NumPy's global generator on construction.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import networkx as nx
import numpy as np

import sim
import sim.execution.runner as runner_module
from benchmarks.cases import RECRUIT_SEED, CampaignCase, CascadeCase
from sim.base.rng import root_key
from sim.campaign import kernel as campaign_kernel
from sim.campaign.model import simulate as campaign_simulate
from sim.classic.kernel import activation_times, final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import plan_recruits
from sim.classic.spec import ExplicitRecruits, IndependentCascade, LinearThreshold
from sim.world.build import build_graph
from sim.world.graph import FlatGraph
from sim.world.spec import BarabasiAlbertGraph

# --------------------------------------------------------------------------- shared inputs


def run_for(trial, budget: float, hard_cap: float) -> tuple[list, dict]:
    """Call ``trial(i, deadline)`` for i = 0, 1, ... until ``budget`` seconds are used.

    A trial returning None (still running at ``t0 + hard_cap``) ends the run. Returns the
    finished trials' outputs and a record with ``elapsed``, ``aborted``, ``trials_per_s``
    (over finished trials only) and ``upper_bound`` (with none finished, one trial takes
    longer than ``elapsed``).
    """
    outs, t0 = [], time.perf_counter()
    t_done, aborted = t0, False
    while t_done - t0 < budget:
        out = trial(len(outs), t0 + hard_cap)
        if out is None:
            aborted = True
            break
        outs.append(out)
        t_done = time.perf_counter()
    elapsed = time.perf_counter() - t0
    return outs, {
        "elapsed": elapsed,
        "aborted": aborted,
        "trials_per_s": len(outs) / (t_done - t0) if outs else None,
        "upper_bound": None if outs else 1.0 / elapsed,
    }


def ba_graph(n: int, m: int, seed: int) -> FlatGraph:
    """The case's Barabási–Albert graph, exactly as ``sim.run`` builds it for ``{kind: barabasi_albert}``."""
    return build_graph(BarabasiAlbertGraph(kind="barabasi_albert", n=n, m=m), seed)


def fixed_recruits(n: int, k: int) -> np.ndarray:
    """``k`` distinct accounts drawn once from a fixed generator (sorted, int64)."""
    return np.sort(np.random.default_rng(RECRUIT_SEED).choice(n, size=k, replace=False)).astype(
        np.int64
    )


def hetero_probs(case: CascadeCase, m_edges: int) -> np.ndarray:
    """Per-directed-edge probabilities U[lo, hi), rounded to float32 (see module notes), as float64."""
    lo, hi = case.p_range
    rng = np.random.default_rng([case.seed, 7])
    return rng.uniform(lo, hi, size=m_edges).astype(np.float32).astype(np.float64)


def weighted_graph(graph: FlatGraph, prob: np.ndarray) -> FlatGraph:
    """The same CSR graph carrying ``prob`` as its edge weights (directed: both directions are edges)."""
    return FlatGraph(
        graph.indptr, graph.indices, graph.labels, prob, True, graph.name + " + weights"
    )


def to_digraph(graph: FlatGraph) -> nx.DiGraph:
    """A networkx DiGraph with nodes 0..n-1 in order and out-edges in CSR order (both directions present)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n))
    g.add_edges_from(zip(graph.sources.tolist(), graph.indices.tolist(), strict=True))
    return g


@contextmanager
def edge_attribute(g: nx.DiGraph, graph: FlatGraph, key: str, values: np.ndarray):
    """Temporarily set edge attribute ``key`` from CSR-ordered ``values`` (removed on exit)."""
    for u, v, p in zip(
        graph.sources.tolist(), graph.indices.tolist(), values.tolist(), strict=True
    ):
        g[u][v][key] = p
    try:
        yield g
    finally:
        for _, _, d in g.edges(data=True):
            d.pop(key, None)


def model_spec(case: CascadeCase):
    """The scenario model block of the case, as a ``sim.input.scenario`` spec object."""
    if case.model == "lt":
        return LinearThreshold(kind="linear_threshold", weights="in_degree")
    if case.p is not None:
        return IndependentCascade(kind="independent_cascade", edge_prob=case.p)
    return IndependentCascade(kind="independent_cascade", edge_prob="edge_weight")


# --------------------------------------------------------------------------- our engine


class OursKernel:
    """``sim.classic.kernel.final_sizes`` on arrays compiled by the public helpers; single thread."""

    label = "numba kernel"

    def __init__(self, case: CascadeCase, graph: FlatGraph, recruits: np.ndarray) -> None:
        self.graph = graph
        self.model = compile_model(model_spec(case), graph)
        self.plan = plan_recruits(ExplicitRecruits(rule="explicit", nodes=recruits.tolist()), graph)
        self.root = root_key(case.seed)

    def sizes(self, trials: np.ndarray) -> np.ndarray:
        """Final sizes of the given trial numbers."""
        return final_sizes(self.graph, self.model, self.plan, self.root, trials)[0]

    def run_batch(self, k: int) -> np.ndarray:
        """Trials 0..k-1 (the same trials every call: identical work per repeat)."""
        return self.sizes(np.arange(k, dtype=np.int64))

    def run_batch_threads(self, k: int, threads: int) -> np.ndarray:
        """Trials 0..k-1 split into ``threads`` contiguous parts run on a thread pool (the kernel is nogil)."""
        parts = np.array_split(np.arange(k, dtype=np.int64), threads)
        with ThreadPoolExecutor(threads) as pool:
            return np.concatenate(list(pool.map(self.sizes, parts)))

    def edges_examined(self, trials: np.ndarray) -> np.ndarray:
        """Out-edges the kernel visits in each trial: the summed out-degree of every activated account."""
        deg = self.graph.out_degree
        out = np.empty(len(trials), dtype=np.int64)
        for i, t in enumerate(trials):
            times = activation_times(self.graph, self.model, self.plan, self.root, int(t))
            out[i] = deg[times >= 0].sum()
        return out


#: Our engines of the cascade models, by name. The suite times the numba kernel on every
#: cascade case (the reference: ratios, edges examined, identical results) and each other
#: engine named by ``--engine`` interleaved with it and cynetdiff. An engine is a class
#: taking ``(case, graph, recruits)`` with a ``label``, ``run_batch(k)`` (final sizes of
#: trials 0..k-1) and ``sizes(trials)``; adding one (say ``"cuda"``) is an adapter like
#: :class:`OursKernel` and a line here.
ENGINES: dict[str, type] = {"numba": OursKernel}


def scenario_yaml(case: CascadeCase, recruits: np.ndarray, edgelist: str | None) -> str:
    """A scenario file for ``sim.run`` equivalent to the kernel call."""
    if edgelist is None:
        world = f"{{kind: barabasi_albert, n: {case.n}, m: {case.m}}}"
    else:
        world = f"{{kind: edgelist, path: {edgelist}, directed: true}}"
    if case.model == "lt":
        model = "{kind: linear_threshold, weights: in_degree}"
    elif case.p is not None:
        model = f"{{kind: independent_cascade, edge_prob: {case.p!r}}}"
    else:
        model = "{kind: independent_cascade, edge_prob: edge_weight}"
    nodes = ", ".join(str(int(v)) for v in recruits)
    return (
        f"name: bench_{case.name}\n"
        f"seed: {case.seed}\n"
        "trials: 1\n"
        f"world:\n  graph: {world}\n"
        f"model: {model}\n"
        f"recruits: {{rule: explicit, nodes: [{nodes}]}}\n"
    )


def write_edgelist(path: Path, graph: FlatGraph) -> None:
    """Every directed edge ``u v w`` (w = repr of the float64 weight, read back exactly)."""
    with open(path, "w") as fh:
        for u, v, w in zip(
            graph.sources.tolist(), graph.indices.tolist(), graph.weight.tolist(), strict=True
        ):
            fh.write(f"{u} {v} {w!r}\n")


class TimedPrepare:
    """``sim.run`` with ``sim.execution.runner.prepare`` timed inside each call.

    ``sim.execution.runner.prepare`` is wrapped (benchmark-side, restored afterwards) to time the
    world building + model compilation inside each call, so the trial phase can be
    reported on its own as well as end to end. Subclasses set ``self.scenario``.
    """

    scenario: sim.Scenario

    def __init__(self) -> None:
        self.prepare_seconds: list[float] = []
        self.last_prepared = None

    @contextmanager
    def _timed_prepare(self):
        original = runner_module.prepare

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            out = original(*args, **kwargs)
            self.prepare_seconds.append(time.perf_counter() - t0)
            self.last_prepared = out
            return out

        runner_module.prepare = wrapper
        try:
            yield
        finally:
            runner_module.prepare = original

    def run_results(self, k: int, workers: int = 1) -> tuple[float, float, sim.Results]:
        """One ``run()``; returns (total seconds, seconds in prepare, its results)."""
        with self._timed_prepare():
            t0 = time.perf_counter()
            res = sim.run(self.scenario, trials=k, workers=workers)
            total = time.perf_counter() - t0
        return total, self.prepare_seconds[-1], res


class OursRun(TimedPrepare):
    """``sim.run(scenario, trials=k, workers=w)``: the public API, world building included."""

    def __init__(
        self, case: CascadeCase, recruits: np.ndarray, workdir: Path, weighted: FlatGraph | None
    ) -> None:
        super().__init__()
        edgelist = None
        if weighted is not None:
            write_edgelist(workdir / f"{case.name}.edges", weighted)
            edgelist = f"{case.name}.edges"
        self.scenario = sim.parse_scenario(
            scenario_yaml(case, recruits, edgelist), base_dir=workdir, source=f"<bench {case.name}>"
        )

    def run(self, k: int, workers: int = 1) -> tuple[float, float, np.ndarray]:
        """One ``run()``; returns (total seconds, seconds in prepare, final sizes)."""
        total, prep, res = self.run_results(k, workers)
        return total, prep, res.table["adopted"].to_numpy()


# --------------------------------------------------------------------------- campaign model

#: Columns of the campaign kernel's per-trial totals (``sim.campaign.kernel.TOTALS``).
IMPRESSIONS = campaign_kernel.TOTALS.index("impressions")
PAIRS = campaign_kernel.TOTALS.index("pairs_examined")
#: Totals that ``run()``'s trial table carries (multiplied by the world's ``scale``).
RUN_TOTALS = {
    "reach": "reach",
    "impressions": "impressions",
    "engagements": "engagements",
    "adopters": "adopted",
    "reshares": "reshares",
    "discovery_impressions": "discovery_impressions",
}


def campaign_prepared(case: CampaignCase) -> runner_module.Prepared:
    """World, campaign arrays and one schedule per strategy, as ``sim.run`` builds them."""
    return runner_module.prepare(sim.load_scenario(case.path))


class OursCampaignKernel:
    """The campaign kernel on one strategy, called as ``sim.execution.runner`` calls it for a chunk.

    ``sim.campaign.model.simulate(pop, arrays, schedule, root_key(seed), trials)`` (which is
    ``campaign_kernel.campaign_trials(*kernel_records(...), root, trials)``), single thread.
    """

    def __init__(self, prepared: runner_module.Prepared, strategy: int) -> None:
        self.pop = prepared.world.population
        self.arrays = prepared.model
        self.schedule = prepared.plans[strategy]
        self.name = prepared.scenario.strategy_list[strategy].name
        self.root = root_key(prepared.scenario.seed)

    def outcome(self, trials: np.ndarray):
        """Run the given trials; the kernel's outcome (totals, series, partners, segments)."""
        return campaign_simulate(self.pop, self.arrays, self.schedule, self.root, trials)

    def run_batch(self, k: int) -> np.ndarray:
        """Totals rows of trials 0..k-1 (the same trials every call: identical work per repeat)."""
        return self.outcome(np.arange(k, dtype=np.int64)).totals


class OursCampaignRun(TimedPrepare):
    """``sim.run(scenario, trials=k, workers=w)`` on the scenario file: every strategy."""

    def __init__(self, case: CampaignCase) -> None:
        super().__init__()
        self.scenario = sim.load_scenario(case.path)

    def run(self, k: int, workers: int = 1) -> tuple[float, float, dict[str, dict]]:
        """One ``run()``; returns (total seconds, seconds in prepare, per-strategy columns).

        The columns are ``RUN_TOTALS``' trial-table columns divided by the world's
        ``scale`` (back to the kernel's integer counts), in trial order.
        """
        total, prep, res = self.run_results(k, workers)
        scale = self.last_prepared.world.population.scale
        table = res.table
        cols = {}
        for name in table["strategy"].unique():
            rows = table[table["strategy"] == name].sort_values("trial")
            cols[str(name)] = {
                "trials": rows["trial"].to_numpy(),
                **{k_: rows[c].to_numpy() / scale for k_, c in RUN_TOTALS.items()},
            }
        return total, prep, cols


class CampaignMesa:
    """The Mesa engine of the campaign model (``sim.campaign.agents.CampaignAgentModel``).

    One model for one strategy, moved from trial to trial with ``start_trial`` (as
    ``sim.campaign.agents.simulate`` does); each trial runs day by day, so a trial still
    running at the hard cap can be abandoned between two days.
    """

    def __init__(self, prepared: runner_module.Prepared, strategy: int) -> None:
        from sim.campaign.agents import CampaignAgentModel

        self.model = CampaignAgentModel(
            prepared.world.population,
            prepared.model,
            prepared.plans[strategy],
            root_key(prepared.scenario.seed),
            0,
        )

    def trial(self, t: int, deadline: float) -> tuple[np.ndarray, ...] | None:
        """Trial ``t``: (totals, series, partners, segments); None if ``deadline`` passed first."""
        m = self.model
        m.start_trial(t)
        while m.running:
            if time.perf_counter() > deadline:
                return None
            m.step()
        return m.totals, m.series, m.partners, m.segments

    def run_budget(self, budget: float, hard_cap: float) -> dict:
        """Run trials 0, 1, ... for ``budget`` s; one still running at ``hard_cap`` s is dropped."""
        outs, rec = run_for(lambda i, deadline: self.trial(i, deadline), budget, hard_cap)
        return {"outputs": outs, **rec}


# --------------------------------------------------------------------------- cynetdiff


class Cynetdiff:
    """cynetdiff 0.1.x IC / LT models built from the shared DiGraph."""

    def __init__(self, case: CascadeCase, digraph: nx.DiGraph, recruits: np.ndarray) -> None:
        from cynetdiff.utils import networkx_to_ic_model, networkx_to_lt_model

        if case.model == "lt":
            self.model, mapping = networkx_to_lt_model(digraph, rng=case.seed)
        elif case.p is not None:
            self.model, mapping = networkx_to_ic_model(
                digraph, activation_prob=case.p, rng=case.seed
            )
        else:  # per-edge probabilities from the "activation_prob" edge attribute
            self.model, mapping = networkx_to_ic_model(digraph, rng=case.seed)
        if any(mapping[i] != i for i in range(0, digraph.number_of_nodes(), 997)):
            raise RuntimeError("cynetdiff renumbered the nodes")
        self.seeds = [int(v) for v in recruits]  # cynetdiff rejects numpy integers
        self.model.set_seeds(self.seeds)

    def run_bulk(self, k: int) -> float:
        """Mean final size of ``k`` trials computed in C (float32 accumulator)."""
        return float(self.model.compute_marginal_gains(self.seeds, [], k)[0])

    def run_loop(self, k: int) -> np.ndarray:
        """Per-trial final sizes, one Python call sequence per trial."""
        m = self.model
        out = np.empty(k, dtype=np.int64)
        for i in range(k):
            m.reset_model()
            m.advance_until_completion()
            out[i] = m.get_num_activated_nodes()
        return out


# --------------------------------------------------------------------------- NDlib


class NDlib:
    """NDlib 6 ``IndependentCascadesModel`` / ``GeneralThresholdModel`` (pure Python)."""

    def __init__(
        self,
        case: CascadeCase,
        digraph: nx.DiGraph,
        graph: FlatGraph,
        recruits: np.ndarray,
        prob: np.ndarray | None,
    ) -> None:
        import ndlib.models.epidemics as ep
        import ndlib.models.ModelConfig as mc

        self.case = case
        self.n = graph.n
        self.recruits = [int(v) for v in recruits]
        self.rng = np.random.default_rng([case.seed, 11])
        src, dst = graph.sources.tolist(), graph.indices.tolist()
        cfg = mc.Configuration()
        if case.model == "ic":
            self.model = ep.IndependentCascadesModel(digraph, seed=case.seed)
            probs = prob.tolist() if prob is not None else [case.p] * graph.m
            cfg.add_edge_set_configuration(
                "threshold", dict(zip(zip(src, dst, strict=True), probs, strict=True))
            )
            key = "threshold"
        else:
            self.model = ep.GeneralThresholdModel(digraph, seed=case.seed)
            indeg = graph.in_degree
            # weight of v -> u (1/in-degree(u)) stored under (u, v): see module notes
            w = {(u, v): 1.0 / indeg[u] for u, v in zip(src, dst, strict=True)}
            cfg.add_edge_set_configuration("weight", w)
            cfg.add_node_set_configuration("threshold", dict.fromkeys(range(self.n), 0.5))
            key = "weight"
        cfg.add_model_initial_configuration("Infected", self.recruits)
        self.model.set_initial_status(cfg)
        got = len(self.model.params["edges"].get(key, {}))
        if got != graph.m:
            raise RuntimeError(f"NDlib kept {got} of {graph.m} edge parameters (silent fallback)")

    def trial(self, deadline: float) -> int | None:
        """One trial; None if ``deadline`` (perf_counter) passed before it finished."""
        model = self.model
        if self.case.model == "lt":
            model.params["nodes"]["threshold"] = dict(enumerate(self.rng.random(self.n).tolist()))
        model.reset(self.recruits)
        it = model.iteration(node_status=False)  # iteration 0: initial state only
        if self.case.model == "ic":
            while it["node_count"][1] > 0:
                if time.perf_counter() > deadline:
                    return None
                it = model.iteration(node_status=False)
            return self.n - it["node_count"][0]
        active = it["node_count"][1]
        while True:
            if time.perf_counter() > deadline:
                return None
            it = model.iteration(node_status=False)
            if it["node_count"][1] == active:
                return active
            active = it["node_count"][1]

    def run_budget(self, budget: float, hard_cap: float) -> dict:
        """Trials until ``budget`` seconds are used; a trial still running at ``hard_cap`` is abandoned."""
        sizes, rec = run_for(lambda _, deadline: self.trial(deadline), budget, hard_cap)
        return {"sizes": np.asarray(sizes, dtype=np.int64), **rec}
