"""The committed JSON Schema files: generated from the models, valid 2020-12, usable on their own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from planet_profiles import _schema
from planet_profiles._models import CLIENT_TYPES, CONFIG_MODELS, SECRET_KEYS
from planet_profiles._schema import (
    INDEX_FILENAME,
    SCHEMA_BASE_URI,
    generate_schemas,
    render_schema,
    schema_dir,
    write_schemas,
)
from tests.test_models import minimal

REPO = Path(__file__).resolve().parent.parent


def committed() -> dict[str, str]:
    files = sorted((REPO / "schema").glob("*.schema.json"))
    return {p.name: p.read_text(encoding="utf-8") for p in files}


def test_committed_schemas_do_not_drift_from_the_models() -> None:
    generated = {name: render_schema(schema) for name, schema in generate_schemas().items()}
    assert sorted(generated) == sorted(committed()), "run `python -m planet_profiles._schema`"
    for name, text in generated.items():
        assert committed()[name] == text, (
            f"schema/{name} is out of date: run `python -m planet_profiles._schema`"
        )


def test_one_file_per_client_type_plus_the_index() -> None:
    assert set(generate_schemas()) == {f"{t}.schema.json" for t in CLIENT_TYPES} | {INDEX_FILENAME}


def test_schema_dir_is_the_checkout_schema_dir() -> None:
    assert schema_dir() == REPO / "schema"


def test_output_is_deterministic() -> None:
    first, second = generate_schemas(), generate_schemas()
    assert first == second
    text = render_schema(first[INDEX_FILENAME])
    assert text.endswith("}\n") and '\n  "$defs": {' in text


def test_check_mode_reports_drift(tmp_path: Path) -> None:
    assert {p.name for p in write_schemas(tmp_path)} == set(generate_schemas())
    assert write_schemas(tmp_path) == []
    cmd = [sys.executable, "-m", "planet_profiles._schema", "--check", str(tmp_path)]
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 0
    (tmp_path / "none.schema.json").write_text("{}\n")
    (tmp_path / "old.schema.json").write_text("{}\n")
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 1
    assert "none.schema.json: out of date" in result.stdout and "old.schema.json" in result.stdout
    assert _schema.main([str(tmp_path)]) == 0
    assert (tmp_path / "none.schema.json").read_text() == render_schema(
        generate_schemas()["none.schema.json"]
    )


def test_check_mode_passes_on_the_repository() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "planet_profiles._schema", "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", sorted(generate_schemas()))
def test_every_file_is_a_valid_2020_12_schema_with_a_stable_id(name: str) -> None:
    schema = generate_schemas()[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_BASE_URI + name


@pytest.mark.parametrize("client_type", CLIENT_TYPES)
def test_per_type_schema_shape(client_type: str) -> None:
    schema = generate_schemas()[f"{client_type}.schema.json"]
    model = CONFIG_MODELS[client_type]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["client_type"]["const"] == client_type
    assert "client_type" in schema["required"]
    assert set(schema["properties"]) == {f.alias or n for n, f in model.model_fields.items()}
    assert "$ref" not in json.dumps(schema) and "$defs" not in schema  # self-contained
    assert "null" not in json.dumps({k: v for k, v in schema["properties"].items()})
    for key, prop in schema["properties"].items():
        secret = key in model.secret_keys
        assert prop.get("x-secret", False) is secret, key
        assert prop.get("writeOnly", False) is secret, key
        if secret:
            assert prop["type"] == "string" and "format" not in prop


def test_secret_annotations_cover_exactly_the_secret_keys() -> None:
    schemas = generate_schemas()
    marked = {
        key
        for name, schema in schemas.items()
        if name != INDEX_FILENAME
        for key, prop in schema["properties"].items()
        if prop.get("x-secret")
    }
    assert marked == set(SECRET_KEYS)


def test_cross_field_rules_are_in_the_schema() -> None:
    schemas = generate_schemas()
    assert schemas["oidc_client_credentials_pubkey.schema.json"]["allOf"] == [
        {"oneOf": [{"required": ["client_privkey"]}, {"required": ["client_privkey_file"]}]}
    ]
    assert {"anyOf": [{"required": ["redirect_uri"]}, {"required": ["local_redirect_uri"]}]} in schemas[
        "oidc_auth_code_secret.schema.json"
    ]["allOf"]
    assert "allOf" not in schemas["oidc_device_code.schema.json"]
    pinning = schemas["oidc_device_code.schema.json"]["properties"]["allowed_issuer_hosts"]["description"]
    assert "JSON Schema cannot express it" in pinning


def test_index_dispatches_on_client_type_and_reports_only_that_types_errors() -> None:
    index = Draft202012Validator(generate_schemas()[INDEX_FILENAME])
    for client_type in CLIENT_TYPES:
        doc = minimal(client_type)
        assert list(index.iter_errors(doc)) == [], client_type
        per_type = Draft202012Validator(generate_schemas()[f"{client_type}.schema.json"])
        assert list(per_type.iter_errors(doc)) == []
    bad = minimal("oidc_device_code", client_scret="x")
    [error] = index.iter_errors(bad)
    assert error.validator == "additionalProperties" and "client_scret" in error.message
    [error] = index.iter_errors({"client_type": "oidc_authcode"})
    assert list(error.absolute_path) == ["client_type"] and error.validator == "enum"
    [error] = index.iter_errors({"auth_server": "https://x"})
    assert error.validator == "required"


def test_index_inlines_every_type_schema() -> None:
    schemas = generate_schemas()
    index = schemas[INDEX_FILENAME]
    assert index["properties"]["client_type"]["enum"] == list(CLIENT_TYPES)
    for client_type in CLIENT_TYPES:
        per_type = dict(schemas[f"{client_type}.schema.json"])
        for key in ("$schema", "$id", "$comment"):
            per_type.pop(key)
        assert index["$defs"][client_type] == per_type


def test_importing_the_schema_module_is_cheap() -> None:
    code = (
        "import sys, planet_profiles._schema; print('pydantic' in sys.modules, 'jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
