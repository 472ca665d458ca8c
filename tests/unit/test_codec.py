"""The JSON codec: every settings and result type the registry declares goes to JSON and back unchanged
(NaN as null, infinities, enums, tuples and int dict keys kept), and the JSON is strict."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import registry as experiments
from lab.core import codec
from lab.core.codec import CodecError
from lab.core.results import ClusterFacts, RunInfo

#: How deep nested dataclasses are built before optional fields are left as None and sequences empty.
MAX_DEPTH = 4


def strategy_for(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Any value of type ``tp`` as the codec must be able to write and read it back."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        opts = [strategy_for(a, depth) for a in non_none] if depth < MAX_DEPTH else []
        return st.one_of(st.none(), *opts) if type(None) in args else st.one_of(*opts)
    if tp is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is str:
        return st.text(max_size=12)
    if tp is Any or tp is object:
        return st.one_of(st.none(), st.integers(0, 9), st.text(max_size=4))
    if origin is typing.Literal:
        return st.sampled_from(args)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = {f.name: strategy_for(hints[f.name], depth + 1) for f in dataclasses.fields(tp)}

        def build(values: dict[str, Any]) -> Any:
            obj = object.__new__(tp)  # as the codec reads it: stored fields, validation not re-run
            for k, v in values.items():
                object.__setattr__(obj, k, v)
            return obj
        return st.fixed_dictionaries(fields).map(build)
    size = 0 if depth >= MAX_DEPTH else 3
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(strategy_for(args[0], depth + 1), max_size=size).map(tuple)
        return st.tuples(*(strategy_for(a, depth + 1) for a in args))
    if origin in (list, set, frozenset):
        return st.lists(strategy_for(args[0], depth + 1), max_size=size).map(origin)
    if origin in (dict, Mapping) or origin is typing.get_origin(Mapping[str, int]):
        return st.dictionaries(strategy_for(args[0], depth + 1), strategy_for(args[1], depth + 1), max_size=size)
    raise AssertionError(f"no strategy for {tp!r}: give the field a concrete type")


def same(a: Any, b: Any) -> bool:
    """Deep equality where NaN equals NaN and the types must match."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def registered_types() -> list[type]:
    out: dict[str, type] = {}
    for e in experiments.REGISTRY.values():
        out[e.settings_type.__name__] = e.settings_type
        out[e.result_type.__name__] = e.result_type
    return [out[k] for k in sorted(out)]


@pytest.mark.parametrize("cls", registered_types(), ids=lambda c: c.__name__)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_registered_type_round_trips(cls: type, data: st.DataObject) -> None:
    obj = data.draw(strategy_for(cls))
    text = codec.dumps(obj)
    json.loads(text)  # strict JSON: no bare NaN/Infinity (allow_nan=False would have raised)
    back = codec.loads(text)
    assert type(back) is cls
    assert same(obj, back)


def test_nan_is_null_and_int_keys_stay_ints() -> None:
    info = RunInfo("r1", "produce", "2026-12-01T00:00:00.000+00:00", "2026-12-01T00:00:01.000+00:00",
                   ClusterFacts("local", "127.0.0.1:9092", "abc", "3.9.2", 3), "cli", math.nan)
    doc = json.loads(codec.dumps(info))
    assert doc["type"] == "RunInfo" and doc["data"]["elapsed_s"] is None
    back = codec.decode(RunInfo, codec.dumps(info))
    assert math.isnan(back.elapsed_s) and back.cluster.broker_count == 3

    @dataclasses.dataclass(frozen=True)
    class Leo:
        by_broker: dict[int, int | None]

    assert codec.decode(Leo, codec.dumps(Leo({1: 5, 2: None}))).by_broker == {1: 5, 2: None}


def test_bad_documents_say_what_is_wrong() -> None:
    with pytest.raises(CodecError, match="Not JSON"):
        codec.loads("{")
    with pytest.raises(CodecError, match="needs 'type' and 'data'"):
        codec.loads("{}")
    with pytest.raises(CodecError, match="Unknown type 'Nope'"):
        codec.loads('{"type": "Nope", "data": {}}')
    with pytest.raises(CodecError, match="schema 99"):
        codec.loads('{"schema": 99, "type": "RunInfo", "data": {}}')
