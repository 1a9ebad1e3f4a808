"""`_names.Record`: the stages' named tuples, checked against `typing.NamedTuple` as the oracle.

`Record` exists for the cold start (issue 11 point 6): `typing.NamedTuple` evaluates a `__new__` from source
for each class, about 0.1 ms a class in a fresh process, and a load imports ten of them. Everything a caller
can do with a `NamedTuple` must give the same answer with a `Record`."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import NamedTuple

import pytest

from planet_profiles import Problem, ProfileLocation
from planet_profiles._names import Record


class Twin(NamedTuple):
    file: str
    line: int
    note: str | None = None
    tags: tuple[str, ...] = ()


class Rec(Record):
    __slots__ = ()

    file: str
    line: int
    note: str | None = None
    tags: tuple[str, ...] = ()

    def where(self) -> str:
        return f"{self.file}:{self.line}"


CALLS = [
    (("a.json", 1), {}),
    (("a.json",), {"line": 2}),
    ((), {"file": "b.json", "line": 3, "tags": ("x",)}),
    (("c.json", 4, "n", ("y", "z")), {}),
    (("d.json", 5), {"note": None}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_a_record_is_built_and_read_as_a_named_tuple(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    rec, twin = Rec(*args, **kwargs), Twin(*args, **kwargs)  # type: ignore[arg-type]
    assert tuple(rec) == tuple(twin) and rec == twin and hash(rec) == hash(twin)
    assert (rec.file, rec.line, rec.note, rec.tags) == (twin.file, twin.line, twin.note, twin.tags)
    assert rec[1] == twin[1] and rec[-1] == twin[-1] and len(rec) == len(twin) == 4
    file, line, note, tags = rec
    assert (file, line, note, tags) == twin
    assert repr(rec) == repr(twin).replace("Twin(", "Rec(")
    assert rec._fields == twin._fields and rec._asdict() == twin._asdict()
    assert rec._replace(line=9, note="m") == twin._replace(line=9, note="m")
    assert type(rec._replace(line=9)) is Rec and rec.where() == f"{twin.file}:{twin.line}"
    for again in (pickle.loads(pickle.dumps(rec)), copy.copy(rec), copy.deepcopy(rec)):
        assert again == rec and type(again) is Rec


def test_records_order_and_compare_as_tuples() -> None:
    records = [Rec("b", 1), Rec("a", 2), Rec("a", 1, "n")]
    twins = [Twin("b", 1), Twin("a", 2), Twin("a", 1, "n")]
    assert [tuple(r) for r in sorted(records)] == [tuple(t) for t in sorted(twins)]
    assert Rec("a", 1) == ("a", 1, None, ()) and Rec("a", 1) != Rec("a", 2)
    assert {Rec("a", 1), Rec("a", 1), Rec("b", 1)} == {Rec("a", 1), Rec("b", 1)}


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("a.json",), {}),  # a field without a default is missing
        ((), {"line": 1}),
        (("a.json", 1, None, (), "extra"), {}),  # too many
        (("a.json", 1), {"file": "b.json"}),  # given twice
        (("a.json", 1), {"colour": "red"}),  # no such field
    ],
)
def test_wrong_arguments_are_a_type_error_as_for_a_named_tuple(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    with pytest.raises(TypeError):
        Twin(*args, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Rec "):
        Rec(*args, **kwargs)  # type: ignore[arg-type]


def test_fields_are_read_only() -> None:
    rec = Rec("a.json", 1)
    with pytest.raises(AttributeError):
        rec.file = "b.json"  # type: ignore[misc]
    assert rec.file == "a.json"


def test_a_field_without_a_default_after_one_with_a_default_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="'b' without a default"):

        class Bad(Record):
            __slots__ = ()
            a: int = 0
            b: int


def test_a_subclass_may_add_methods_but_not_fields() -> None:
    class Named(Rec):
        __slots__ = ()

        def shout(self) -> str:
            return self.file.upper()

    assert Named("a", 1).shout() == "A" and Named._fields == Rec._fields
    with pytest.raises(TypeError, match="cannot be extended"):

        class More(Rec):
            __slots__ = ()
            extra: int = 0


def test_the_public_records_keep_their_named_tuple_behaviour() -> None:
    problem = Problem("a.json", "/client_id", "missing")
    file, pointer, message = problem
    assert (file, pointer, message) == ("a.json", "/client_id", "missing")
    assert str(problem) == "a.json: /client_id: missing"
    assert repr(problem) == "Problem(file='a.json', pointer='/client_id', message='missing')"
    again = pickle.loads(pickle.dumps(problem))
    assert again == problem and type(again) is Problem and type(problem).__module__ == "planet_profiles"
    location = ProfileLocation("p", Path("/x/p/auth_client.json"), Path("/x"), "~/.planet")
    assert pickle.loads(pickle.dumps(location)) == location and location.encrypted is False
    match problem:
        case Problem(file, pointer, message):
            assert (file, pointer, message) == ("a.json", "/client_id", "missing")
        case _:
            raise AssertionError("a Problem matches its class pattern")


def test_the_rest_of_the_named_tuple_api() -> None:
    assert Rec._field_defaults == Twin._field_defaults == {"note": None, "tags": ()}
    assert Rec.__match_args__ == Twin.__match_args__ == ("file", "line", "note", "tags")
    assert Rec._make(["a", 1, None, ()]) == Twin._make(["a", 1, None, ()]) and type(Rec._make("abcd")) is Rec
    with pytest.raises(TypeError):
        Rec._make(["a", 1])
    for record in (Rec("a", 1), Twin("a", 1)):
        with pytest.raises(ValueError, match="unexpected field names"):
            record._replace(colour="red")
        match record:
            case Rec(file, line) | Twin(file, line):
                assert (file, line) == ("a", 1)
            case _:
                raise AssertionError("a record matches its class pattern positionally")


def test_no_instance_dict_and_no_new_attributes() -> None:
    """As a NamedTuple (`__slots__ = ()`): nothing but the fields, in memory or in a pickle."""
    rec = Rec("a.json", 1)
    assert not hasattr(rec, "__dict__")
    with pytest.raises(AttributeError):
        rec.extra = 1  # type: ignore[attr-defined]
    assert rec.__reduce_ex__(2)[2] is None  # no state beside the tuple itself
    with pytest.raises(TypeError, match="__slots__"):

        class Loose(Record):
            a: int


def test_fields_named_like_the_methods_parameters() -> None:
    """`cls` and `self` are positional-only in `__new__` and `_replace`, as in a NamedTuple."""

    class Odd(Record):
        __slots__ = ()
        cls: int
        self: int

    odd = Odd(cls=1, self=2)
    assert odd == (1, 2) and odd._replace(self=3, cls=4) == (4, 3)
