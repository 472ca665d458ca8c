"""One JSON codec for every settings and result type: ``dumps(result)`` and ``loads(text)`` give it back.

The JSON is plain and strict (``allow_nan=False``): NaN is written as ``null`` and read back as NaN
where the field is a ``float`` (as ``"nan"`` where the field is ``float | None``, whose null is None);
infinities as the strings ``"inf"``/``"-inf"``. Decoding is driven by
the dataclasses' type hints, so enums come back as enums, tuples as tuples, ``dict[int, …]`` keys as
ints and nested dataclasses as themselves. A document names its type::

    {"schema": 1, "type": "ProduceResult", "data": {...}}

Result modules must import the types their fields name at run time (not under ``TYPE_CHECKING``), so
the hints resolve.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from lab.core import catalogue
from lab.core.errors import LabError

#: Bumped when a stored document's shape changes incompatibly (the run store migrates on it).
SCHEMA_VERSION = 1

T = TypeVar("T")


class CodecError(LabError):
    """A document that is not the JSON of a known lab type."""


# --- encoding ------------------------------------------------------------------------------------
@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _nullable(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def _item_types(tp: Any, n: int) -> list[Any]:
    """The declared type of each of ``n`` items of a sequence typed ``tp`` (Any when unknown)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis) and len(args) == n:
        return list(args)
    return [args[0] if origin in (tuple, list, set, frozenset) and args else Any] * n


#: written as they are (exact types: an IntEnum or numpy scalar takes the general path)
_PLAIN = (int, str, bool)
_INFINITIES = (math.inf, -math.inf)
#: read back as they are when the JSON value already has the declared type
_PLAIN_READ = (float, int, str)


@cache
def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """Each field's name and declared type (cached: a result may hold 10 000 samples of one class)."""
    hints = _hints(cls)
    return tuple((f.name, hints.get(f.name, Any)) for f in dataclasses.fields(cls))


def to_jsonable(obj: Any, tp: Any = Any) -> Any:
    """Dataclasses, enums, tuples, sets, numpy scalars and dicts -> plain JSON values.

    NaN becomes null, except where the declared type ``tp`` also allows None (``float | None``): there
    null means None, so NaN is written as the string "nan".
    """
    kind = type(obj)
    if kind is float:  # the common case first: results are mostly samples of plain floats
        if obj != obj:
            return "nan" if _nullable(tp) else None
        return obj if obj not in _INFINITIES else ("inf" if obj > 0 else "-inf")
    if kind is int or kind is str or kind is bool or obj is None:
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for name, hint in _field_hints(type(obj)):
            v = getattr(obj, name)
            vt = type(v)
            plain = (vt is float and v == v and v not in _INFINITIES) or v is None or vt in _PLAIN
            out[name] = v if plain else to_jsonable(v, hint)
        return out
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if math.isnan(obj):
            return "nan" if _nullable(tp) else None
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        return float(obj)
    if isinstance(obj, Mapping):
        args = typing.get_args(tp) if typing.get_origin(tp) in (dict, Mapping) else ()
        kt, vt = args if len(args) == 2 else (Any, Any)
        return {str(to_jsonable(k, kt)): to_jsonable(v, vt) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
        return [to_jsonable(v, t) for v, t in zip(items, _item_types(tp, len(items)), strict=True)]
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item):
        return to_jsonable(item(), tp)
    raise CodecError(f"Cannot write a {type(obj).__name__} as JSON.")


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """A typed document for ``loads``: the object's class name and its fields."""
    doc = {"schema": SCHEMA_VERSION, "type": type(obj).__name__, "data": to_jsonable(obj)}
    return json.dumps(doc, indent=indent, allow_nan=False)


# --- decoding ------------------------------------------------------------------------------------
def from_jsonable(tp: Any, value: Any) -> Any:
    """Rebuild a value of type ``tp`` from what ``to_jsonable`` wrote."""
    if type(value) is tp and tp in _PLAIN_READ:  # the common case first: a sample's plain float or int
        return value
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        errors = []
        for a in non_none:
            try:
                return from_jsonable(a, value)
            except (CodecError, TypeError, ValueError, KeyError) as exc:
                errors.append(exc)
        raise CodecError(f"{value!r} fits none of {tp}: {errors}")
    if origin is typing.Literal:
        return value
    if tp is float:
        if value is None:
            return math.nan
        if value in ("inf", "-inf", "nan"):
            return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}[value]
        return float(value)
    if tp is bool:
        return bool(value)
    if tp is int:
        return int(value)
    if tp is str:
        return str(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise CodecError(f"{tp.__name__} needs an object, not {value!r}")
        obj = object.__new__(tp)  # fields as stored, without re-running validation of old settings
        missing = False
        for name, hint in _field_hints(tp):
            if name in value:
                object.__setattr__(obj, name, from_jsonable(hint, value[name]))
            else:
                missing = True
        for f in dataclasses.fields(tp) if missing else ():
            if f.name not in value:  # a field added since the document was written
                if f.default is not dataclasses.MISSING:
                    object.__setattr__(obj, f.name, f.default)
                elif f.default_factory is not dataclasses.MISSING:
                    object.__setattr__(obj, f.name, f.default_factory())
                else:
                    raise CodecError(f"{tp.__name__} document lacks its field {f.name!r}")
        return obj
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], v) for v in value)
        if not args:
            return tuple(value)
        return tuple(from_jsonable(a, v) for a, v in zip(args, value, strict=True))
    if origin in (list, set, frozenset):
        inner = args[0] if args else Any
        return origin(from_jsonable(inner, v) for v in value)
    if origin in (dict, Mapping) or origin is typing.get_origin(Mapping[str, int]):
        kt, vt = args if args else (Any, Any)
        return {from_jsonable(kt, k): from_jsonable(vt, v) for k, v in value.items()}
    if tp in (dict, list, tuple):
        return tp(value)
    raise CodecError(f"Cannot read a value of type {tp!r}.")


def known_types() -> dict[str, type]:
    """Every settings and result type the experiment registry declared (``lab.core.catalogue``), by class
    name."""
    return catalogue.types()


def loads(text: str, types_: Mapping[str, type] | None = None) -> Any:
    """The object ``dumps`` wrote; its type is looked up by name (default: the registry's types)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CodecError(f"Not JSON: {exc}") from exc
    if not isinstance(doc, dict) or "type" not in doc or "data" not in doc:
        raise CodecError("Not a lab document: it needs 'type' and 'data'.")
    if doc.get("schema", SCHEMA_VERSION) > SCHEMA_VERSION:
        raise CodecError(f"The document has schema {doc['schema']}; this lab reads up to {SCHEMA_VERSION}.",
                         hint="Update the lab to read it.")
    table = dict(types_) if types_ is not None else known_types()
    cls = table.get(doc["type"])
    if cls is None:
        raise CodecError(f"Unknown type {doc['type']!r}.", hint=f"Known: {', '.join(sorted(table)) or 'none'}.")
    return from_jsonable(cls, doc["data"])


def decode(cls: type[T], text: str) -> T:
    """Like ``loads`` for a known class."""
    obj = loads(text, {cls.__name__: cls})
    return typing.cast(T, obj)
