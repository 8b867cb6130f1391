"""Mesa, imported safely: the two traps of Mesa 3.3.1 handled once for both agent engines.

* ``import mesa`` calls ``multiprocessing.set_start_method("spawn", force=True)`` (in
  ``mesa/batchrunner.py``); the start method in force before the import is restored, so
  importing an engine does not change how a runner's pools start.
* ``mesa.Agent`` numbers agents with a class-level dictionary keyed by the model, which
  keeps every model (and all its agents) alive for the life of the process. Agent classes
  set ``_ids = WeakIdCounters()`` to keep those counters in a weak dictionary instead.
"""

from __future__ import annotations

import itertools
import multiprocessing
import weakref
from collections.abc import Iterator

_START_METHOD = multiprocessing.get_start_method(allow_none=True)
import mesa  # noqa: E402

multiprocessing.set_start_method(_START_METHOD, force=True)

__all__ = ["WeakIdCounters", "mesa"]


class WeakIdCounters:
    """Per-model ``unique_id`` counters that do not keep the model alive.

    Mesa's ``Agent.__init__`` calls ``next(self._ids[model])``; Mesa's own ``_ids`` is a
    ``defaultdict`` holding a strong reference to every model ever built. Counters kept in
    a :class:`weakref.WeakKeyDictionary` vanish with their model, so a runner that builds
    one model per chunk does not leak.
    """

    def __init__(self) -> None:
        self._counters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __getitem__(self, model: mesa.Model) -> Iterator[int]:
        counter = self._counters.get(model)
        if counter is None:
            counter = self._counters[model] = itertools.count(1)
        return counter
