"""Kernel argument records (sim.base.kernel_records): fields by name, refused when mistyped or misshapen."""

from __future__ import annotations

from typing import Annotated, NamedTuple

import numpy as np
import pytest

from sim.base.kernel_records import Array, RecordError, Scalar, build, fields
from sim.campaign import kernel as ck
from sim.campaign.model import kernel_records, params_record, posts_record, world_record
from sim.classic import kernel as cascade
from sim.world.graph import FlatGraph


class _Edges(NamedTuple):
    indptr: Annotated[np.ndarray, Array(np.int64, "n+1")]
    weight: Annotated[np.ndarray, Array(np.float64, "n")]
    table: Annotated[np.ndarray, Array(np.float64, "days+1", 2)]
    days: Annotated[int, Scalar(int)]
    scale: Annotated[float, Scalar(float)]
    flag: Annotated[bool, Scalar(bool)]
    key: Annotated[np.uint64, Scalar(np.uint64)]


def _good(**change):
    values = dict(indptr=np.arange(4, dtype=np.int64), weight=np.ones(3), table=np.zeros((6, 2)), days=5,
                  scale=2, flag=True, key=7)
    values.update(change)
    return values


def test_a_record_holds_its_fields_by_name_with_one_scalar_type_each():
    rec = build(_Edges, **_good(scale=np.int32(2), days=np.int64(5)))
    assert rec.weight.dtype == np.float64 and rec.indptr.shape == (4,)
    assert type(rec.scale) is float and type(rec.days) is int and type(rec.flag) is bool
    assert type(rec.key) is np.uint64 and rec.key == 7
    assert list(fields(_Edges)) == list(_Edges._fields)


@pytest.mark.parametrize(("change", "words"), [
    (dict(weight=np.ones(3, np.float32)), ["_Edges.weight", "float64[n]", "float32"]),
    (dict(weight=np.ones(3, np.int64)), ["_Edges.weight", "float64[n]", "int64"]),
    (dict(indptr=np.arange(4, dtype=np.int32)), ["_Edges.indptr", "int64[n+1]", "int32"]),
    (dict(weight=np.ones(4)), ["_Edges.weight", "n = 3", "(4,)"]),
    (dict(weight=np.ones((3, 1))), ["_Edges.weight", "float64[n]", "(3, 1)"]),
    (dict(table=np.zeros((5, 2))), ["_Edges.table", "days = 5", "(5, 2)"]),
    (dict(table=np.zeros((6, 3))), ["_Edges.table", "(6, 3)"]),
    (dict(weight=[1.0, 1.0, 1.0]), ["_Edges.weight", "expected an array", "list"]),
    (dict(scale="2"), ["_Edges.scale", "float", "str"]),
    (dict(scale=np.ones(1)), ["_Edges.scale", "float", "ndarray"]),
    (dict(scale=True), ["_Edges.scale", "float", "bool"]),
    (dict(days=5.5), ["_Edges.days", "int", "5.5"]),
    (dict(flag=1), ["_Edges.flag", "bool", "int"]),
    (dict(key=-1), ["_Edges.key", "uint64"]),
])
def test_a_mistyped_or_misshapen_field_is_refused_naming_it(change, words):
    with pytest.raises(RecordError) as err:
        build(_Edges, **_good(**change))
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_missing_and_unknown_fields_are_refused():
    values = _good()
    del values["scale"]
    with pytest.raises(RecordError, match="missing scale"):
        build(_Edges, **values)
    with pytest.raises(RecordError, match="unknown weights"):
        build(_Edges, **_good(weights=np.ones(3)))


def test_non_contiguous_arrays_are_made_contiguous():
    rec = build(_Edges, **_good(weight=np.ones(6)[::2]))
    assert rec.weight.flags.c_contiguous


def _toy_world():
    from tests.unit.test_campaign import _bare_population, _reduction

    indptr = np.array([0, 2, 3, 3, 4], np.int64)
    graph = FlatGraph(indptr, np.array([1, 2, 3, 0], np.int32), np.arange(4), None, True, "toy")
    arrays, schedule = _reduction(graph, np.array([0]), independent=False, p=0.5, days=3)
    return _bare_population(graph), arrays, schedule


def test_campaign_records_carry_the_compiled_arrays_by_name():
    """Each kernel field is the model's array of the same name: two float64[n] arrays cannot trade places."""
    pop, arrays, schedule = _toy_world()
    world, posts, params = kernel_records(pop, arrays, schedule)
    for name in ("channel", "reach", "trust0", "engagement", "eligible", "threshold_scale", "segment", "plat_ptr",
                 "plat_members"):
        assert getattr(world, name) is getattr(arrays, name), name
    assert world.indptr is pop.graph.indptr and world.indices is pop.graph.indices
    for name in ("day", "account", "channel", "partner", "factor", "n_discovery", "discovery_engagement",
                 "discovery_trust", "draw"):
        assert getattr(posts, name) is getattr(schedule, name), name
    for name in ("shock", "decay", "recovery", "growth", "wear"):
        assert getattr(params, name) is getattr(arrays, name), name
    assert (params.ceiling, params.reshare, params.days) == (arrays.ceiling, arrays.reshare, arrays.days)


def test_campaign_records_refuse_arrays_that_do_not_fit_the_world():
    import dataclasses

    pop, arrays, schedule = _toy_world()
    with pytest.raises(RecordError, match=r"KernelWorld.reach: expected float64\[n\] with n = 4"):
        world_record(pop, dataclasses.replace(arrays, reach=np.ones(5)))
    with pytest.raises(RecordError, match=r"KernelWorld.segment: expected int16\[n\], got int64"):
        world_record(pop, dataclasses.replace(arrays, segment=np.zeros(4, np.int64)))
    with pytest.raises(RecordError, match=r"KernelPosts.factor: expected float64\[posts\] with posts = 1"):
        posts_record(dataclasses.replace(schedule, factor=np.ones(2)))
    with pytest.raises(RecordError, match=r"KernelParams.decay: expected float64\[days\+1\] with days = 3"):
        params_record(dataclasses.replace(arrays, decay=np.ones(3)))
    with pytest.raises(RecordError, match=r"KernelParams.mode: expected a int"):
        params_record(dataclasses.replace(arrays, mode=0.5))


def test_classic_records_refuse_mistyped_arrays():
    with pytest.raises(RecordError, match=r"Graph.indices: expected int32\[m\], got int64"):
        build(cascade.Graph, indptr=np.array([0, 1], np.int64), indices=np.array([0], np.int64))
    with pytest.raises(RecordError, match=r"Recruits.fixed: expected int32\[\*\], got int64"):
        build(cascade.Recruits, fixed=np.zeros(2, np.int64), n_random=0)


def test_the_kernel_reads_fields_not_positions():
    """A record's fields go to the kernel by name: the toy world run through records built in two
    field orders gives one result."""
    pop, arrays, schedule = _toy_world()
    world, posts, params = kernel_records(pop, arrays, schedule)
    shuffled = build(ck.KernelParams, **dict(reversed(list(params._asdict().items()))))
    a = ck.campaign_trials(world, posts, params, np.uint64(5), np.arange(8, dtype=np.int64))
    b = ck.campaign_trials(world, posts, shuffled, np.uint64(5), np.arange(8, dtype=np.int64))
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)


def test_records_are_built_once_per_source_object_and_go_with_it():
    import dataclasses
    import gc

    from sim.base.kernel_records import _MEMO

    pop, arrays, schedule = _toy_world()
    first = kernel_records(pop, arrays, schedule)
    again = kernel_records(pop, arrays, schedule)
    assert all(a is b for a, b in zip(first, again, strict=True))
    other = dataclasses.replace(schedule, factor=schedule.factor * 2)
    assert kernel_records(pop, arrays, other)[1].factor is other.factor  # a new object, a new record
    n = len(_MEMO[posts_record])
    del other
    gc.collect()
    assert len(_MEMO[posts_record]) == n - 1
