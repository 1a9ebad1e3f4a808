"""The pydantic-free load path (`planet_profiles._config`, `_schemacheck`) agrees with the models
(`planet_profiles._models.parse_config`): same acceptance, same problems, same config attributes; and the one
run-time checker (`_schemacheck.Checker`) agrees with jsonschema, the oracle, on every type."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planet_profiles._config import KEY_ORDER, ProfileConfig, Secret, _parenthesized, parse_config
from planet_profiles._errors import ConfigError
from planet_profiles._models import CLIENT_TYPES, CONFIG_MODELS
from planet_profiles._models import parse_config as parse_model
from planet_profiles._problems import sort_problems
from planet_profiles._schema import schema_dir
from planet_profiles._schemacheck import ANNOTATIONS, KEYWORDS, Checker, UnsupportedSchemaError
from planet_profiles._validate import _schema_problems, _type_shaped, type_schema, validate_document
from tests.fuzz_strategies import profile_docs
from tests.test_models import minimal
from tests.test_validate import CROSS_CHECK, invalid_case, valid_doc, where


def outcome(parse: Any, doc: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """`(to_dict with secrets, [])` when `doc` parses, else `(None, [(pointer, message)])`."""
    try:
        config = parse(copy.deepcopy(doc), file="f")
    except ConfigError as exc:
        return None, where(list(exc.problems))
    return config.to_dict(reveal_secrets=True), []


def attributes(config: Any) -> dict[str, Any]:
    keys = CONFIG_MODELS[config.client_type].model_fields
    values = {name: getattr(config, name) for name in keys}
    return {k: getattr(x, "get_secret_value", lambda x=x: x)() for k, x in values.items()}


def assert_same_config(doc: dict[str, Any]) -> None:
    fast, model = parse_config(doc), parse_model(doc)
    for reveal in (False, True):
        for unset in (False, True):
            mine = fast.to_dict(reveal_secrets=reveal, exclude_unset=unset)
            theirs = model.to_dict(reveal_secrets=reveal, exclude_unset=unset)
            assert mine == theirs
            assert list(mine) == list(theirs)  # the same key order, e.g. in saved files and `show`
    assert attributes(fast) == attributes(model)
    assert fast.secret_keys == model.secret_keys
    assert fast.key_rules == model.key_rules
    assert (fast.display_name, fast.description) == (model.display_name, model.description)
    assert fast == parse_config(doc)


@CROSS_CHECK
@given(valid_doc())
def test_valid_documents_give_the_same_config(doc: dict[str, Any]) -> None:
    assert_same_config(doc)
    assert parse_config(doc).to_dict(reveal_secrets=True, exclude_unset=True) == doc


@CROSS_CHECK
@given(invalid_case())
def test_invalid_documents_give_the_same_problems(case: tuple[dict[str, Any], str]) -> None:
    doc, pointer = case
    fast, model = outcome(parse_config, doc), outcome(parse_model, doc)
    assert fast[0] is None
    assert pointer in {p for p, _ in fast[1]}
    assert fast == model
    assert fast[1] == where(validate_document(doc, file="f"))  # and the same as jsonschema's


@CROSS_CHECK
@given(profile_docs())
def test_any_document_same_acceptance_and_problems(doc: Any) -> None:
    assert outcome(parse_config, doc) == outcome(parse_model, doc)


@pytest.mark.parametrize(
    "extra",
    [
        {"$schema": "\ud800"},  # hypothesis found this one: pydantic refused it, the checker did not
        {"scopes": ["openid", "x\udc00"]},
        {"auth_server": "https://\ud800.example.com"},  # also fails the URL pattern: reported once
    ],
)
def test_lone_surrogates_are_refused_alike(extra: dict[str, Any]) -> None:
    """A JSON string may hold a lone surrogate escape that UTF-8 cannot encode: refused by both paths with
    the same problem, once per value."""
    doc = {
        "client_type": "oidc_auth_code",
        "auth_server": "https://login.example.com",
        "client_id": "app",
        "local_redirect_uri": "http://127.0.0.1/callback",
        **extra,
    }
    fast = outcome(parse_config, doc)
    assert fast == outcome(parse_model, doc) and fast[0] is None
    label = next(iter(extra)) + ("[1]" if "scopes" in extra else "")
    assert [message for _, message in fast[1]] == [
        f"`{label}` is not valid Unicode text (a lone surrogate escape such as `\\ud800`)"
    ]


@pytest.mark.parametrize("client_type", CLIENT_TYPES)
def test_minimal_documents(client_type: str) -> None:
    assert_same_config(minimal(client_type))


def test_key_order_is_every_models_field_order() -> None:
    for model in CONFIG_MODELS.values():
        keys = [f.alias or name for name, f in model.model_fields.items()]
        assert [k for k in KEY_ORDER if k in keys] == keys


def test_checker_knows_every_keyword_of_the_committed_schemas() -> None:
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                used.add(key)
                for sub in value.values() if key in ("properties", "$defs") else [value]:
                    walk(sub)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for client_type in CLIENT_TYPES:
        walk(json.loads((schema_dir() / f"{client_type}.schema.json").read_text(encoding="utf-8")))
    assert used <= set(KEYWORDS) | ANNOTATIONS
    with pytest.raises(UnsupportedSchemaError):
        list(Checker({"maxLength": 3}).iter_errors("abcd"))
    with pytest.raises(UnsupportedSchemaError):
        list(Checker({"additionalProperties": {"type": "string"}}).iter_errors({}))


def test_checker_keyword_semantics() -> None:
    def kinds(schema: dict[str, Any], instance: Any) -> list[str]:
        return [e.validator for e in Checker(schema).iter_errors(instance)]

    assert kinds({"const": 1}, True) == ["const"]
    assert kinds({"enum": [0, "a"]}, False) == ["enum"]
    assert kinds({"type": "integer"}, 2.0) == []
    assert kinds({"type": ["string", "null"]}, None) == []
    assert kinds({"pattern": "^a$"}, "a\n") == ["pattern"]  # ECMA-262 `$`: end of input
    assert kinds({"items": {"minLength": 1}, "minItems": 3}, ["", "x"]) == ["minLength", "minItems"]


def test_secrets_are_hidden_and_the_config_is_immutable() -> None:
    config = parse_config(minimal("oidc_client_credentials_secret", client_secret="s3cr3t-value"))
    assert isinstance(config, ProfileConfig)
    assert isinstance(config.client_secret, Secret)
    assert config.client_secret.get_secret_value() == "s3cr3t-value"
    for shown in (repr(config), str(config), repr(config.client_secret), str(config.client_secret)):
        assert "s3cr3t" not in shown
    assert config.to_dict()["client_secret"] == "**********"
    assert config.client_auth_method is None  # unset: as planet-auth sends it, negotiated
    assert config.scopes is None
    with pytest.raises(AttributeError):
        config.client_id = "other"
    with pytest.raises(AttributeError):
        _ = config.legacy_auth_endpoint  # not a key of this type
    listed = parse_config(minimal("oidc_device_code", scopes=["openid"]))
    listed.to_dict()["scopes"].append("x")
    listed.scopes.append("y")
    assert parse_config(minimal("oidc_device_code", scopes=["openid"])).to_dict()["scopes"] == ["openid"]
    assert parse_config({"client_type": "none", "$schema": "x.json"}).schema_ref == "x.json"


def test_loading_a_profile_imports_neither_pydantic_nor_jsonschema() -> None:
    code = (
        "import sys, planet_profiles; "
        "ctx = planet_profiles.from_config({'client_type': 'static_apikey', 'api_key': 'k'}, "
        "profile_name='p', save_token_file=False); "
        "assert ctx.auth_client().config.api_key.get_secret_value() == 'k'; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'jsonschema')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- jsonschema, the oracle of the checker


def oracle_class() -> Any:
    """jsonschema's Draft 2020-12 with ECMA-262 `$` in `pattern` (end of input), as check-jsonschema and
    pydantic read the schema files."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    from planet_profiles._schemacheck import ecma_regex

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not ecma_regex(patrn).search(instance):
            yield ValidationError(f"does not match {patrn!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})


ORACLE = oracle_class()


def assert_checker_agrees_with_jsonschema(doc: Any, client_type: str) -> None:
    """Same failed keywords at the same places (jsonschema reports `required` once per missing key, the
    checker once), and the same `Problem`s."""
    mine = type_schema(client_type)
    oracle = ORACLE(mine.schema)

    def kinds(errors: Any) -> list[tuple[str, tuple[Any, ...]]]:
        return sorted({(e.validator, tuple(e.absolute_path)) for e in errors})  # jsonschema: one per key

    assert kinds(mine.checker.iter_errors(doc)) == kinds(oracle.iter_errors(doc))
    if isinstance(doc, dict):
        theirs = mine._replace(checker=oracle)
        assert sort_problems(list(_schema_problems(mine, doc, "f"))) == sort_problems(
            list(_schema_problems(theirs, doc, "f"))
        )


@CROSS_CHECK
@given(doc=profile_docs(), client_type=st.sampled_from(CLIENT_TYPES))
def test_checker_agrees_with_jsonschema_on_any_document(doc: Any, client_type: str) -> None:
    own = doc.get("client_type") if isinstance(doc, dict) else None
    assert_checker_agrees_with_jsonschema(doc, own if own in CLIENT_TYPES else client_type)


@CROSS_CHECK
@given(valid_doc())
def test_checker_agrees_with_jsonschema_on_valid_documents(doc: dict[str, Any]) -> None:
    assert_checker_agrees_with_jsonschema(doc, doc["client_type"])
    assert list(ORACLE(type_schema(doc["client_type"]).schema).iter_errors(doc)) == []


@CROSS_CHECK
@given(invalid_case())
def test_checker_agrees_with_jsonschema_on_invalid_documents(case: tuple[dict[str, Any], str]) -> None:
    doc, _ = case
    if doc.get("client_type") in CLIENT_TYPES:
        assert_checker_agrees_with_jsonschema(doc, doc["client_type"])


_TEXT_ALPHABET = "az_AZ09 ().(\n)\r\u00e9\u0130"  # letters at the ASCII edges, `_`, parentheses, line ends


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(alphabet=_TEXT_ALPHABET, max_size=8) | st.text(max_size=4))
def test_string_rules_are_the_regexes_they_replace(text: str) -> None:
    """Two start-up rules are checked without a regex (none is compiled at every cold start): the shape of a
    client type, `[a-z][a-z_]*` in full, and what a schema title names in its final parentheses."""
    assert _type_shaped(text) is (re.fullmatch(r"[a-z][a-z_]*", text) is not None)
    for title in (text, f"{text} (Auth Code)"):
        found = re.search(r"\((.*)\)\Z", title)
        assert _parenthesized(title) == (found[1] if found else None)
