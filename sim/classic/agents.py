"""The Mesa engine for the classic cascade models: one agent per account, with readable state.

This engine runs the same models as the numba kernels in :mod:`sim.classic.kernel` and
gives, for the same graph, compiled model, recruit plan, root key and trial,
the **same activation step for every account**, to the bit. That is possible
because no random number here is drawn in sequence: each is computed from a key
that says what it is for (:mod:`sim.base.rng`), exactly as the kernel computes it:

* Independent Cascade (Kempe, Kleinberg & Tardos 2003): edge ``e`` is live in
  trial ``t`` iff lane ``t % 64``'s draw of edge ``e`` under the key
  ``trial_key(root, LIVE_LANES, t // 64)`` is below ``threshold[e] = ceil(prob[e] * 2**56)``
  (:func:`sim.base.rng.lane_numbers`; the kernel compares the same digits eight edges at a time);
* Linear Threshold (Kempe et al. 2003) and Watts' (2002) fractional threshold:
  account ``v`` has threshold ``theta_lo + theta_span * uniform(trial_key(root,
  THRESHOLD, t), v)``, in units of ``scale[v]`` integer weight; the general threshold
  model makes it from the same uniform by another law (:func:`thresholds_of_trial`), and
  with instigators the accounts whose threshold is <= 0 act at step 0 (Granovetter 1978);
* random recruits: Floyd's algorithm over the keyed draws of
  ``trial_key(root, RECRUITS, t)``, as in the kernels in :mod:`sim.classic.kernel`.

Edge ids are positions in the CSR arrays of :class:`sim.world.graph.FlatGraph`; both
engines number edges the same way because both read the same arrays.

Time and scheduling follow the model description (``DESIGN.md``): recruits are
active at step 0; in each step every account first reads the state left by the
previous step (:meth:`Account.step`, visited in a freshly shuffled order), then
all accounts commit together (:meth:`Account.advance`). Because no account sees
another's change within a step, the visiting order cannot matter; it is shuffled
anyway, with a generator of its own, to show that it does not.

Notes
-----
Two traps of Mesa 3.3.1 (the start method that ``import mesa`` overwrites, and
agent-id counters that keep every model alive) are handled in :mod:`sim.base.mesa_compat`.
"""

from __future__ import annotations

import numpy as np

from sim.base.mesa_compat import WeakIdCounters, mesa
from sim.base.rng import LANES, Stream, as_key, lane_numbers, normal_quantile, trial_key, uniforms
from sim.classic.kernel import UNLIMITED
from sim.classic.model import (
    LAW_LISTED,
    LAW_NORMAL,
    LAW_STEPS,
    LAW_UNIFORM,
    CompiledModel,
    IndependentCascadeArrays,
    ThresholdArrays,
)
from sim.classic.recruits import RecruitPlan
from sim.world.graph import FlatGraph

__all__ = [
    "Account",
    "CascadeModel",
    "IndependentCascadeAccount",
    "ThresholdAccount",
    "activation_times",
    "final_sizes",
    "recruits_of_trial",
    "thresholds_of_trial",
]


# --------------------------------------------------------------------------- agents

class Account(mesa.Agent):
    """An account (node) of the follow graph: the state both cascade models share.

    Attributes
    ----------
    index : int
        Node index in the :class:`~sim.world.graph.FlatGraph` (0..n-1); ``unique_id`` is ``index + 1``.
    active : bool
        Whether the account has adopted (recruits are active from step 0).
    activated_at : int or None
        Step at which the account became active; None while inactive.
    in_edges : tuple of int
        Ids (CSR positions) of the edges ``u -> self``, parallel edges and self-loops included.
    in_sources : tuple of Account
        Source account of each edge in :attr:`in_edges`.
    """

    _ids = WeakIdCounters()

    def __init__(self, model: CascadeModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.active = False
        self.activated_at: int | None = None
        self.in_edges: tuple[int, ...] = ()
        self.in_sources: tuple[Account, ...] = ()
        self._activate_next = False

    def reset(self) -> None:
        """Return to the inactive state before a new trial."""
        self.active = False
        self.activated_at = None
        self._activate_next = False

    def step(self) -> None:
        """Read the previous step's state and decide whether to activate (no state is changed)."""
        raise NotImplementedError

    def advance(self) -> None:
        """Commit the decision taken in :meth:`step`; every account commits after all have read."""
        if self._activate_next:
            self._activate_next = False
            self.active = True
            self.activated_at = self.model.steps
            self.model.newly_active.append(self)


class IndependentCascadeAccount(Account):
    """An account under the Independent Cascade (Kempe, Kleinberg & Tardos 2003).

    An account that became active at step ``s`` tries each of its out-edges once,
    between steps ``s`` and ``s + 1``; an edge succeeds iff it is live in this
    trial (:attr:`CascadeModel.edge_live`). Seen from the receiving side, an
    inactive account activates at ``s + 1`` iff some in-edge from an account
    activated at exactly ``s`` is live.
    """

    def step(self) -> None:
        """Activate next step if a live in-edge comes from an account activated in the last step."""
        if self.active:
            return
        last = self.model.steps - 1  # Mesa counts the step in progress; we read the one before
        live = self.model.edge_live
        for e, source in zip(self.in_edges, self.in_sources, strict=True):
            if source.activated_at == last and live[e]:
                self._activate_next = True
                return


class ThresholdAccount(Account):
    """An account under the Linear Threshold model (Kempe et al. 2003) or Watts' (2002) model.

    Attributes
    ----------
    in_weights : tuple of int
        Integer weight of each edge in :attr:`in_edges` (``ThresholdArrays.weight``);
        integers make the sum exact in any order.
    threshold : float
        This trial's threshold as a fraction of :attr:`scale`: ``theta_lo + theta_span * U``,
        U in [0, 1) keyed by ``(root, THRESHOLD, trial, index)``.
    scale : float
        Weight units that make a threshold of 1 (in-degree, or ``WEIGHT_UNIT``).
    need : float
        ``threshold * scale``: the weight needed to activate, float64.
    influence : int
        Summed weight of in-edges whose source is active (as of the last committed step;
        frozen at its value when the account activates).
    exposed : bool
        Whether at least one in-edge comes from an active account.

    Notes
    -----
    The kernel examines an account only when an edge from an active account
    reaches it, and compares ``acc >= need`` with ``acc`` an int64 converted to
    float64. The same rule here: an account activates only if it is
    :attr:`exposed` (so an account with in-degree 0 never activates, even with a
    threshold of 0) and ``float(influence) >= need`` (so sums above 2**53 round as
    they do in the kernel).
    """

    def __init__(self, model: CascadeModel, index: int) -> None:
        super().__init__(model, index)
        self.in_weights: tuple[int, ...] = ()
        self.scale = 0.0
        self.threshold = 0.0
        self.need = 0.0
        self.influence = 0
        self.exposed = False
        self._next_influence = 0
        self._next_exposed = False

    def reset(self) -> None:
        """Return to the inactive, unexposed state before a new trial."""
        super().reset()
        self.influence = 0
        self.exposed = False
        self._next_influence = 0
        self._next_exposed = False

    def step(self) -> None:
        """Sum the weight arriving from active accounts and compare it with the threshold."""
        if self.active:
            return
        influence = 0
        exposed = False
        for w, source in zip(self.in_weights, self.in_sources, strict=True):
            if source.active:
                exposed = True
                influence += w
        self._next_influence = influence
        self._next_exposed = exposed
        self._activate_next = exposed and float(influence) >= self.need

    def advance(self) -> None:
        """Commit the new influence and, if the threshold was reached, activation."""
        if not self.active:
            self.influence = self._next_influence
            self.exposed = self._next_exposed
        super().advance()


# --------------------------------------------------------------------------- model

def thresholds_of_trial(contagion: ThresholdArrays, key: np.uint64, n: int) -> np.ndarray:
    """Every account's threshold in one trial (float64[n], units of its ``scale``).

    The same laws as the kernel's ``_threshold``, written here from the definitions:
    uniform ``theta_lo + theta_span * U``; normal ``theta_lo + theta_span * Phi^-1(U)``
    (:func:`sim.base.rng.normal_quantile`, the Python original of the kernel's jitted copy);
    listed ``table[v]``; steps: the first j with ``U < table[j]`` gives ``theta_lo +
    theta_span * (j + 1)``, infinity past the table.
    """
    c = contagion
    u = uniforms(key, np.arange(n))
    if c.law == LAW_UNIFORM:
        return c.theta_lo + c.theta_span * u
    if c.law == LAW_NORMAL:
        return c.theta_lo + c.theta_span * np.array([normal_quantile(x) for x in u.tolist()], dtype=np.float64)
    if c.law == LAW_LISTED:
        return np.array(c.table, dtype=np.float64)
    if c.law == LAW_STEPS:
        j = np.searchsorted(c.table, u, side="right")  # first j with table[j] > u
        out = c.theta_lo + c.theta_span * (j + 1).astype(np.float64)
        out[j >= len(c.table)] = np.inf
        return out
    raise ValueError(f"unknown threshold law {c.law}")


def recruits_of_trial(n: int, plan: RecruitPlan, root: np.uint64, trial: int) -> list[int]:
    """Distinct recruits of one trial, in the order the kernel places them.

    ``plan.fixed`` first (duplicates once), then ``plan.n_random`` draws by Floyd's
    algorithm (Bentley & Floyd 1987, "Programming pearls: a sample of brilliance"),
    draw ``j`` being ``floor(uniform(trial_key(root, RECRUITS, trial), j) * (j + 1))``,
    exactly as the kernels in :mod:`sim.classic.kernel` (including its treatment of a draw
    that hits a fixed recruit).

    Parameters
    ----------
    n : int
        Number of accounts.
    plan : RecruitPlan
        Fixed recruits and number of random ones (0 <= ``n_random`` <= n).
    root : numpy.uint64
        Root key of the run.
    trial : int
        Trial number, >= 0.

    Returns
    -------
    list of int
        Node indices, without repeats.
    """
    chosen = dict.fromkeys(int(v) for v in plan.fixed)  # an ordered set
    k = int(plan.n_random)
    if k > n:
        raise ValueError(f"{k} random recruits asked for, but the graph has {n} accounts")
    if k > 0:
        key = trial_key(np.uint64(root), np.uint64(int(Stream.RECRUITS)), as_key(trial))
        js = np.arange(n - k, n, dtype=np.int64)
        # float64 product truncated to int64, as `sim.base.rng.below` does in the kernel.
        ts = (uniforms(key, js) * (js + 1)).astype(np.int64)
        for j, t in zip(js.tolist(), ts.tolist(), strict=True):
            v = t if t not in chosen else j
            if v not in chosen:
                chosen[v] = None
    return list(chosen)


class CascadeModel(mesa.Model):
    """Mesa model of one cascade trial on a follow graph: IC, LT or fractional threshold.

    Parameters
    ----------
    graph : FlatGraph
        The follow graph; edge ``u -> v`` lets ``u`` influence ``v``.
    contagion : IndependentCascadeArrays or ThresholdArrays
        The compiled model (:func:`sim.classic.model.compile_model`).
    plan : RecruitPlan
        Who is active at step 0 (:func:`sim.classic.recruits.plan_recruits`).
    root : numpy.uint64
        Root key of the run (:func:`sim.base.rng.root_key`).
    trial : int, default 0
        First trial to set up (>= 0); :meth:`start_trial` moves to another.
    max_steps : int, optional
        Stop after this many steps (None: until nothing new activates).
    shuffle_seed : int, default 0
        Seed (>= 0) of Mesa's generators, used **only** to shuffle the order in which
        agents are visited. No modelled quantity depends on it.

    Attributes
    ----------
    accounts : list of Account
        The agents, indexed by node index.
    trial : int
        The trial being run.
    edge_live : list of bool or None
        IC only: the trial's live-edge realisation, by edge id.
    newly_active : list of Account
        Accounts that activated in the last step.
    adopted : int
        Number of active accounts, recruits included.
    last_activation : int
        Step of the most recent activation (0 if nothing spread); the kernel's ``steps``.

    Notes
    -----
    ``model.steps`` (Mesa's counter) is the step in progress during :meth:`step`,
    so an account activated in it gets ``activated_at = model.steps``; the final
    step of a run is the one that activates nobody (or the one that reaches
    ``max_steps``).

    Examples
    --------
    >>> contagion = compile_model(spec, graph)                       # doctest: +SKIP
    >>> m = CascadeModel(graph, contagion, plan, root_key(42), trial=3)  # doctest: +SKIP
    >>> m.run()                                                      # doctest: +SKIP
    >>> m.accounts[17].activated_at, m.adopted                       # doctest: +SKIP
    """

    def __init__(
        self,
        graph: FlatGraph,
        contagion: CompiledModel,
        plan: RecruitPlan,
        root: np.uint64,
        trial: int = 0,
        *,
        max_steps: int | None = None,
        shuffle_seed: int = 0,
    ) -> None:
        # An int seed: Mesa seeds both of its generators from it without drawing from anything else.
        super().__init__(rng=int(shuffle_seed))
        if isinstance(contagion, IndependentCascadeArrays):
            account_type: type[Account] = IndependentCascadeAccount
        elif isinstance(contagion, ThresholdArrays):
            account_type = ThresholdAccount
        else:
            raise TypeError(f"the Mesa cascade engine does not run {type(contagion).__name__}")
        self.graph = graph
        self.contagion = contagion
        self.plan = plan
        self.root = np.uint64(root)
        self.max_steps = int(UNLIMITED) if max_steps is None else int(max_steps)
        self._account_type = account_type
        self.accounts: list[Account] = [account_type(self, v) for v in range(graph.n)]
        self._wire()
        self.trial = -1
        self.edge_live: list[bool] | None = None
        self.newly_active: list[Account] = []
        self.adopted = 0
        self.last_activation = 0
        self.start_trial(trial)

    def _wire(self) -> None:
        """Give every account its in-edges (ids, sources, and weights for threshold models)."""
        g = self.graph
        by_target = np.argsort(g.indices, kind="stable")
        bounds = np.zeros(g.n + 1, dtype=np.int64)
        np.cumsum(g.in_degree, out=bounds[1:])
        edge_ids = by_target.tolist()
        sources = g.sources[by_target].tolist()
        weights: list[int] | None = None
        scale: list[float] = []  # set with weights
        if isinstance(self.contagion, ThresholdArrays):
            weights = self.contagion.weight[by_target].tolist()
            scale = self.contagion.scale.tolist()
        for v, account in enumerate(self.accounts):
            lo, hi = int(bounds[v]), int(bounds[v + 1])
            account.in_edges = tuple(edge_ids[lo:hi])
            account.in_sources = tuple(self.accounts[u] for u in sources[lo:hi])
            if weights is not None:
                account.in_weights = tuple(int(w) for w in weights[lo:hi])
                account.scale = float(scale[v])

    def start_trial(self, trial: int) -> None:
        """Reset every account, draw the keyed randomness of ``trial`` and activate its recruits.

        Parameters
        ----------
        trial : int
            Trial number, >= 0.
        """
        self.trial = int(trial)
        tkey = as_key(trial)
        self.steps = 0
        self.running = True
        self.newly_active = []
        self.last_activation = 0
        for account in self.accounts:
            account.reset()
        c = self.contagion
        if isinstance(c, IndependentCascadeArrays):
            key = trial_key(self.root, np.uint64(int(Stream.LIVE_LANES)), as_key(self.trial // LANES))
            # Kempe et al.'s live-edge view: one vectorised pass over all edges costs less here
            # than per-edge draws from Python, and gives the same bits the kernel draws lazily.
            lane = self.trial % LANES
            self.edge_live = (lane_numbers(key, np.arange(self.graph.m), lane) < c.threshold).tolist()
        else:
            key = trial_key(self.root, np.uint64(int(Stream.THRESHOLD)), tkey)
            threshold = thresholds_of_trial(c, key, self.graph.n)
            need = threshold * c.scale  # float64, same operations as the kernel
            pairs = zip(threshold.tolist(), need.tolist(), strict=True)
            for account, (th, nd) in zip(self.accounts, pairs, strict=True):
                account.threshold, account.need = th, nd
        recruits = recruits_of_trial(self.graph.n, self.plan, self.root, self.trial)
        if isinstance(c, ThresholdArrays) and c.instigators:
            chosen = set(recruits)
            recruits += [a.index for a in self.accounts if a.threshold <= 0.0 and a.index not in chosen]
        for v in recruits:
            account = self.accounts[v]
            account.active = True
            account.activated_at = 0
        self.adopted = len(recruits)

    def step(self) -> None:
        """One synchronous step: all accounts read (shuffled order), then all commit."""
        self.newly_active = []
        self.agents.shuffle_do(self._account_type.step)
        self.agents.shuffle_do(self._account_type.advance)
        if self.newly_active:
            self.adopted += len(self.newly_active)
            self.last_activation = self.steps
        else:
            self.running = False

    def run(self) -> None:
        """Step until nothing new activates or ``max_steps`` steps have run."""
        while self.running and self.steps < self.max_steps:
            self.step()

    def activation_times(self) -> np.ndarray:
        """Activation step of every account (-1 = never active), int32[n]."""
        return np.array(
            [-1 if a.activated_at is None else a.activated_at for a in self.accounts],
            dtype=np.int32,
        )


# --------------------------------------------------------------------------- engine front

def activation_times(
    graph: FlatGraph,
    model: CompiledModel,
    plan: RecruitPlan,
    root: np.uint64,
    trial: int,
    max_steps: int | None = None,
    *,
    shuffle_seed: int = 0,
) -> np.ndarray:
    """Activation step of every account in one trial, run as a Mesa model; int32[n], -1 = never.

    Same arguments and result as :func:`sim.classic.kernel.activation_times`, which it
    reproduces exactly; ``shuffle_seed`` only changes the order agents are visited in.

    Parameters
    ----------
    graph : FlatGraph
    model : IndependentCascadeArrays or ThresholdArrays
    plan : RecruitPlan
    root : numpy.uint64
        Root key of the run (:func:`sim.base.rng.root_key`).
    trial : int
        Trial number, >= 0.
    max_steps : int, optional
        Step limit (None: until the cascade stops).
    shuffle_seed : int, default 0
        Seed of the agent visiting order.
    """
    m = CascadeModel(
        graph, model, plan, root, trial, max_steps=max_steps, shuffle_seed=shuffle_seed
    )
    m.run()
    return m.activation_times()


def final_sizes(
    graph: FlatGraph,
    model: CompiledModel,
    plan: RecruitPlan,
    root: np.uint64,
    trials: np.ndarray,
    max_steps: int | None = None,
    *,
    shuffle_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Final cascade size and duration of the given trials, run as a Mesa model.

    Same arguments and result as :func:`sim.classic.kernel.final_sizes`. One model (and
    one set of agents) is built and reset for each trial.

    Returns
    -------
    adopted : int64[T]
        Active accounts at the end, recruits included.
    steps : int32[T]
        Step of the last activation (0 if nothing spread).
    """
    trials = np.asarray(trials, dtype=np.int64)
    adopted = np.empty(trials.shape[0], dtype=np.int64)
    steps = np.empty(trials.shape[0], dtype=np.int32)
    if trials.shape[0] == 0:
        return adopted, steps
    m = CascadeModel(
        graph, model, plan, root, int(trials[0]), max_steps=max_steps, shuffle_seed=shuffle_seed
    )
    for i, t in enumerate(trials.tolist()):
        if i > 0:
            m.start_trial(t)
        m.run()
        adopted[i] = m.adopted
        steps[i] = m.last_activation
    return adopted, steps
