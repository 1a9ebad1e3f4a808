"""A small JSON Schema checker for the committed `schema/<client_type>.schema.json` files, without jsonschema.

Importing jsonschema costs about 70 ms and pydantic about 45 ms; loading a profile should cost neither. The
generated schemas use only a few keywords (`type`, `const`, `enum`, `pattern`, `minLength`, `minItems`,
`items`, `properties`, `required`, `additionalProperties: false`, and `allOf` / `anyOf` / `oneOf` of
`required`), so this module implements exactly those, with Draft 2020-12 semantics, and refuses a schema that
uses any other validation keyword (`UnsupportedSchemaError`), so a new model feature cannot be silently
skipped. `pattern` uses ECMA-262's `$` (end of input), as `planet_profiles._validate` does.

`Checker.iter_errors` yields `SchemaError`s with the attributes of a `jsonschema.ValidationError` that
`planet_profiles._validate` turns into `Problem`s (`validator`, `validator_value`, `instance`,
`absolute_path`, `schema`), so both paths word every problem the same way.

Instances are untrusted JSON, typed `object` and narrowed with `isinstance`; a keyword's value is narrowed to
the shape the keyword needs (`_array`, `_strings`, `_subschema`, …), a schema of another shape is refused with
`UnsupportedSchemaError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache

from ._names import Record

__all__ = ["ANNOTATIONS", "KEYWORDS", "Checker", "SchemaError", "UnsupportedSchemaError", "ecma_regex"]


class SchemaError(Record):
    """One failed keyword, shaped like `jsonschema.ValidationError` (the attributes `_validate` reads)."""

    __slots__ = ()

    validator: str
    validator_value: object
    instance: object
    absolute_path: tuple[str | int, ...]
    schema: Mapping[str, object]


class UnsupportedSchemaError(ValueError):
    """The schema uses a validation keyword this checker does not implement."""


Schema = Mapping[str, object]
Loc = tuple[str | int, ...]
Errors = Iterator[SchemaError]
_Check = Callable[["Checker", object, object, Schema, Loc], Errors]


def _array(keyword: str, value: object) -> list[object]:
    if not isinstance(value, list):
        raise UnsupportedSchemaError(f"`{keyword}` must be an array")
    return value


def _strings(keyword: str, value: object) -> list[str]:
    items = _array(keyword, value)
    if not all(isinstance(item, str) for item in items):
        raise UnsupportedSchemaError(f"`{keyword}` must be an array of strings")
    return [str(item) for item in items]


def _subschema(keyword: str, value: object) -> Schema:
    if not isinstance(value, Mapping):
        raise UnsupportedSchemaError(f"`{keyword}` must hold a schema")
    return value


def _number(keyword: str, value: object) -> int:
    if not isinstance(value, int):
        raise UnsupportedSchemaError(f"`{keyword}` must be an integer")
    return value


ANNOTATIONS = frozenset(
    {"$comment", "$id", "$schema", "default", "description", "examples", "title", "writeOnly", "x-secret"}
)
"""Keywords that never fail: ignored."""

_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda x: isinstance(x, str),
    "array": lambda x: isinstance(x, list),
    "object": lambda x: isinstance(x, Mapping),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())
    ),
}


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled with ECMA-262's `$` (end of input; Python's `$` also matches before a final
    newline), so this checker, jsonschema, check-jsonschema (ECMA regexes) and pydantic (Rust) agree."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def _equal(a: object, b: object) -> bool:
    """JSON equality: `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _error(kind: str, value: object, instance: object, schema: Schema, path: Loc) -> SchemaError:
    return SchemaError(kind, value, instance, path, schema)


def _type(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    names = [value] if isinstance(value, str) else _strings("type", value)
    if not any(_TYPES[name](inst) for name in names):
        yield _error("type", value, inst, schema, path)


def _const(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if not _equal(inst, value):
        yield _error("const", value, inst, schema, path)


def _enum(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if not any(_equal(inst, each) for each in _array("enum", value)):
        yield _error("enum", value, inst, schema, path)


def _pattern(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if not isinstance(value, str):
        raise UnsupportedSchemaError("`pattern` must be a string")
    if isinstance(inst, str) and not ecma_regex(value).search(inst):
        yield _error("pattern", value, inst, schema, path)


def _min_length(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if isinstance(inst, str) and len(inst) < _number("minLength", value):
        yield _error("minLength", value, inst, schema, path)


def _min_items(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if isinstance(inst, list) and len(inst) < _number("minItems", value):
        yield _error("minItems", value, inst, schema, path)


def _items(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if isinstance(inst, list):
        for i, item in enumerate(inst):
            yield from c.errors(_subschema("items", value), item, (*path, i))


def _properties(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if isinstance(inst, Mapping):
        for key, sub in _subschema("properties", value).items():
            if key in inst:
                yield from c.errors(_subschema("properties", sub), inst[key], (*path, key))


def _additional(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if value is not False:
        raise UnsupportedSchemaError("only `additionalProperties: false` is supported")
    known = _subschema("properties", schema.get("properties", {}))
    if isinstance(inst, Mapping) and any(key not in known for key in inst):
        yield _error("additionalProperties", value, inst, schema, path)


def _required(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if isinstance(inst, Mapping) and any(key not in inst for key in _strings("required", value)):
        yield _error("required", value, inst, schema, path)


def _all_of(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    for sub in _array("allOf", value):
        yield from c.errors(_subschema("allOf", sub), inst, path)


def _any_of(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if not any(c.is_valid(_subschema("anyOf", sub), inst) for sub in _array("anyOf", value)):
        yield _error("anyOf", value, inst, schema, path)


def _one_of(c: Checker, value: object, inst: object, schema: Schema, path: Loc) -> Errors:
    if sum(c.is_valid(_subschema("oneOf", sub), inst) for sub in _array("oneOf", value)) != 1:
        yield _error("oneOf", value, inst, schema, path)


KEYWORDS: dict[str, _Check] = {
    "type": _type,
    "const": _const,
    "enum": _enum,
    "pattern": _pattern,
    "minLength": _min_length,
    "minItems": _min_items,
    "items": _items,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
}
"""The validation keywords this checker implements."""


class Checker:
    """Validates instances against one schema (the subset of Draft 2020-12 in `KEYWORDS`)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def iter_errors(self, instance: object) -> Errors:
        """Every failed keyword, as `jsonschema.Validator.iter_errors` would report it."""
        return self.errors(self.schema, instance, ())

    def errors(self, schema: Schema, instance: object, path: Sequence[str | int]) -> Errors:
        for keyword, value in schema.items():
            check = KEYWORDS.get(keyword)
            if check is not None:
                yield from check(self, value, instance, schema, tuple(path))
            elif keyword not in ANNOTATIONS:
                raise UnsupportedSchemaError(f"unsupported JSON Schema keyword `{keyword}`")

    def is_valid(self, schema: Schema, instance: object) -> bool:
        return next(self.errors(schema, instance, ()), None) is None
