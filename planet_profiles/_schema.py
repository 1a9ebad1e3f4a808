"""JSON Schema (2020-12) files generated from the config models, and where to find them.

The models in `planet_profiles._models` are the one source; `schema/<client_type>.schema.json` (one per
client type) and `schema/auth_client.schema.json` (dispatches on `client_type` with `if`/`then`, the
per-type schemas inlined as `$defs`, so it works on its own with check-jsonschema or an editor) are
generated from them, committed, and checked for drift by a test; the wheel ships them as package data
(`data_root()`). Regenerate with

    python -m planet_profiles._schema [DIR]           # write
    python -m planet_profiles._schema --check [DIR]   # exit 1 and list the files that drifted

Conventions in the files: `additionalProperties: false`; secret keys are
`{"type": "string", "writeOnly": true, "x-secret": true}`; the cross-field rules (e.g. exactly one of
`client_privkey` / `client_privkey_file`) are `anyOf` / `oneOf` of `required`. One rule cannot be written
in JSON Schema: the hosts of the auth-server URLs must be in `allowed_issuer_hosts` when it is set; the
models and `planet_profiles._validate` check it (see `pinned_host_problems`).

Importing this module is cheap: pydantic is imported only when schemas are generated.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import ClientConfigBase

__all__ = [
    "INDEX_FILENAME",
    "SCHEMA_BASE_URI",
    "generate_schemas",
    "data_root",
    "index_path",
    "render_schema",
    "schema_dir",
    "schema_drift",
    "schema_filename",
    "schema_path",
    "write_schemas",
]

SCHEMA_BASE_URI = "https://planet-profiles.dev/schema/"
"""Base of the schemas' `$id`s: a stable identifier, never fetched."""

INDEX_FILENAME = "auth_client.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_GENERATED = "Generated from planet_profiles._models by `python -m planet_profiles._schema`; do not edit."


def data_root() -> Path:
    """The package data, laid out as in the repository (`schema/`, `templates/`, the root `copier.yml`):
    `planet_profiles/_data/` in an installed wheel, else the root of the source checkout (editable install).

    (Not `importlib.resources`: importing it costs ~20 ms, and loading a profile reads the schema files.)"""
    packaged = Path(__file__).parent / "_data"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent


def schema_dir() -> Path:
    """`schema/` of `data_root()`: one JSON Schema file per client type and the index schema."""
    return data_root() / "schema"


def schema_filename(client_type: str) -> str:
    return f"{client_type}.schema.json"


def schema_path(client_type: str) -> Path:
    return schema_dir() / schema_filename(client_type)


def index_path() -> Path:
    return schema_dir() / INDEX_FILENAME


def render_schema(schema: Mapping[str, object]) -> str:
    """The deterministic text of a schema file: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _clean(node: Any) -> Any:
    """Drop pydantic's generated `title`s, `default: null` and the `type` beside an `enum`."""
    if isinstance(node, dict):
        drop = {"title", "type"} if "enum" in node else {"title"}  # an enum says it all, in one error
        return {k: _clean(v) for k, v in node.items() if k not in drop and not (k == "default" and v is None)}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _type_schema(model: type[ClientConfigBase]) -> dict[str, Any]:
    from pydantic.json_schema import GenerateJsonSchema

    class Generator(GenerateJsonSchema):
        # Optional keys may be left out but are never `null` (the models reject null), so `X | None`
        # is written as plain `X`.
        def nullable_schema(self, schema: Any) -> Any:
            return self.generate_inner(schema["schema"])

    raw = model.model_json_schema(by_alias=True, schema_generator=Generator, mode="validation")
    assert "$defs" not in raw, "per-type schemas must be self-contained"
    properties = _clean(raw["properties"])
    properties["client_type"] = {
        "const": model.CLIENT_TYPE,
        "description": f"Selects this schema: `{model.CLIENT_TYPE}` ({model.display_name}).",
    }
    for key in model.secret_keys:
        properties[key].pop("format", None)  # pydantic's "password"
        properties[key].update({"writeOnly": True, "x-secret": True})
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": SCHEMA_BASE_URI + schema_filename(model.CLIENT_TYPE),
        "$comment": _GENERATED,
        "title": f"planet-profiles `{model.CLIENT_TYPE}` profile ({model.display_name})",
        "description": model.description,
        "type": "object",
        "properties": properties,
        "required": sorted({"client_type", *raw.get("required", ())}),
        "additionalProperties": False,
    }
    rules = [
        {"oneOf" if rule.exactly_one else "anyOf": [{"required": [k]} for k in rule.keys]}
        for rule in model.key_rules
    ]
    if rules:
        schema["allOf"] = rules
    return schema


def generate_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file, by file name, generated from the models."""
    from ._models import CLIENT_TYPES, CONFIG_MODELS

    files = {schema_filename(t): _type_schema(CONFIG_MODELS[t]) for t in CLIENT_TYPES}
    inlined = {
        t: {k: v for k, v in files[schema_filename(t)].items() if k not in ("$schema", "$id", "$comment")}
        for t in CLIENT_TYPES
    }
    files[INDEX_FILENAME] = {
        "$schema": DIALECT,
        "$id": SCHEMA_BASE_URI + INDEX_FILENAME,
        "$comment": _GENERATED,
        "title": "planet-profiles auth client profile (auth_client.json / auth_client.sops.json)",
        "description": "An auth-client profile; `client_type` selects the schema of the other keys. "
        "Compatible with planet-auth's auth_client.json.",
        "type": "object",
        "required": ["client_type"],
        "properties": {
            "client_type": {"enum": list(CLIENT_TYPES), "description": "The kind of auth client."},
        },
        "allOf": [
            {
                "if": {"properties": {"client_type": {"const": t}}, "required": ["client_type"]},
                "then": {"$ref": f"#/$defs/{t}"},
            }
            for t in CLIENT_TYPES
        ],
        "$defs": inlined,
    }
    return files


def write_schemas(directory: str | Path | None = None) -> list[Path]:
    """Write every schema file into `directory` (default `schema_dir()`); returns the files that changed."""
    directory = Path(directory) if directory is not None else schema_dir()
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, schema in generate_schemas().items():
        path = directory / name
        text = render_schema(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def schema_drift(directory: str | Path | None = None) -> list[str]:
    """Names of schema files that are missing, differ from the models, or are left over in `directory`."""
    directory = Path(directory) if directory is not None else schema_dir()
    expected = {name: render_schema(schema) for name, schema in generate_schemas().items()}
    drift = [
        name
        for name, text in expected.items()
        if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text
    ]
    drift += sorted(p.name for p in directory.glob("*.schema.json") if p.name not in expected)
    return sorted(drift)


def main(argv: list[str] | None = None) -> int:
    import argparse  # here, not at the top: the loader imports this module on every cold start

    parser = argparse.ArgumentParser(
        prog="python -m planet_profiles._schema", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if any file differs")
    parser.add_argument(
        "directory", nargs="?", help="schema directory (default: %(default)s)", default=schema_dir()
    )
    args = parser.parse_args(argv)
    if args.check:
        drift = schema_drift(args.directory)
        for name in drift:
            print(f"{Path(args.directory) / name}: out of date; run `python -m planet_profiles._schema`")
        return 1 if drift else 0
    for path in write_schemas(args.directory):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
