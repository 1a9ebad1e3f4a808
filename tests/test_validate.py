"""Validation without pydantic or keys: plaintext and sops files, the DESIGN bad-input cases, and a
hypothesis cross-check that the models (`parse_config`) and the schema files (`validate_document`) agree."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from planet_profiles._documents import parse_json
from planet_profiles._errors import ConfigError, Problem
from planet_profiles._models import CLIENT_TYPES, parse_config
from planet_profiles._names import ENCRYPTED_REGEX, SECRET_KEYS
from planet_profiles._problems import PINNED_URL_KEYS
from planet_profiles._schema import INDEX_FILENAME, generate_schemas
from planet_profiles._sopscheck import ENC_PATTERN
from planet_profiles._validate import validate_document, validate_file
from tests.test_models import SECRET, minimal

DATA = Path(__file__).resolve().parent / "data"
SOPS_FIXTURE = DATA / "cc_secret.sops.json"  # real sops 3.11 output (age recipient), key not kept
SCHEMAS = {t: generate_schemas()[f"{t}.schema.json"] for t in CLIENT_TYPES}
INDEX = Draft202012Validator(generate_schemas()[INDEX_FILENAME])


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


def where(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in problems]


def enc(text: str = "x", kind: str = "str") -> str:
    return f"ENC[AES256_GCM,data:{text}==,iv:aXZpdml2aXZpdml2aXY=,tag:dGFndGFndGFndGFn,type:{kind}]"


def fixture_doc() -> dict[str, Any]:
    return json.loads(SOPS_FIXTURE.read_text())


# ---------------------------------------------------------------- DESIGN bad-input cases, by file


@pytest.mark.parametrize(
    ("content", "pointer", "words"),
    [
        (
            {"client_type": "oidc_authcode"},
            "/client_type",
            ["unknown client_type `oidc_authcode`", "oidc_auth_code,"],
        ),
        (minimal("oidc_device_code", client_id=None), "/client_id", ["`client_id` must be a string"]),
        (
            {k: v for k, v in minimal("oidc_device_code").items() if k != "client_id"},
            "/client_id",
            ["missing required key `client_id`"],
        ),
        (
            minimal("oidc_device_code", scopes="openid"),
            "/scopes",
            ['`scopes` must be a list of strings, e.g. ["openid"', "got a string"],
        ),
        (
            minimal("oidc_device_code", scopse=["openid"]),
            "/scopse",
            ["unknown key `scopse` (did you mean `scopes`?)"],
        ),
        ('{"client_type": "none",\n  "x": }', "", ["invalid JSON at line 2, column 8"]),
        ("", "", ["the file is empty"]),
        (" \n", "", ["the file is empty"]),
        ("[]", "", ["a profile must be a JSON object; got a list"]),
        ('{"client_type": "none", "client_type": "none"}', "/client_type", ["duplicate key `client_type`"]),
    ],
)
def test_bad_input_names_file_and_key(tmp_path: Path, content: Any, pointer: str, words: list[str]) -> None:
    path = write(tmp_path / "team" / "auth_client.json", content)
    problems = validate_file(path)
    assert problems and all(p.file == str(path) for p in problems)
    assert any(p.pointer == pointer and all(w in p.message for w in words) for p in problems), problems
    assert str(problems[0]).startswith(f"{path}: {pointer or '/'}: ")


def test_not_utf8_and_unreadable(tmp_path: Path) -> None:
    bad = tmp_path / "auth_client.json"
    bad.write_bytes(b'{"client_type": "\xff"}')
    assert where(validate_file(bad)) == [("", "not UTF-8 text (byte 17); save the file as UTF-8")]
    [problem] = validate_file(tmp_path / "missing" / "auth_client.json")
    assert problem.pointer == "" and problem.message.startswith("cannot read the file: ")
    [problem] = validate_file(tmp_path)  # a directory
    assert problem.message.startswith("cannot read the file: ")


def test_parse_json_never_raises() -> None:
    assert parse_json(b'{"a": 1}', file="f") == ({"a": 1}, [])
    doc, problems = parse_json('{"a": 1, "a": 2}', file="f")
    assert doc == {"a": 2} and where(problems) == [("/a", "duplicate key `a`; keep only one")]
    assert parse_json("{", file="f")[0] is None


def test_valid_plaintext_profiles_pass(tmp_path: Path) -> None:
    for client_type in (
        "oidc_auth_code",
        "oidc_device_code",
        "oidc_client_validator",
        "planet_legacy",
        "none",
    ):
        assert validate_file(write(tmp_path / client_type / "auth_client.json", minimal(client_type))) == []


def test_plaintext_secret_in_auth_client_json(tmp_path: Path) -> None:
    path = write(tmp_path / "auth_client.json", minimal("oidc_client_credentials_secret"))
    assert where(validate_file(path)) == [
        (
            "/client_secret",
            "plaintext secret `client_secret` in auth_client.json: move it to auth_client.sops.json and "
            "encrypt it with `planet-profiles encrypt`",
        )
    ]
    # static_apikey requires api_key, so such a profile can only be an auth_client.sops.json
    path = write(tmp_path / "s" / "auth_client.json", minimal("static_apikey"))
    assert [p.pointer for p in validate_file(path)] == ["/api_key"]
    # ...but decrypted content is validated as it is
    assert validate_document(minimal("static_apikey"), file="x") == []
    # a sops block in a file not named *.sops.json
    path = write(tmp_path / "n" / "auth_client.json", {**fixture_doc(), "client_secret": None})
    assert where(validate_file(path))[-1] == (
        "/sops",
        "this file has a `sops` block: name encrypted files `*.sops.json`",
    )


def test_secret_values_never_in_problems(tmp_path: Path) -> None:
    docs = [
        minimal("oidc_auth_code", client_secret=SECRET, password=[SECRET]),
        minimal("static_apikey", api_key=7, bearer_token_prefix=SECRET + " "),
        minimal("oidc_client_credentials_secret", issuer=SECRET, auth_server=SECRET),
    ]
    for i, doc in enumerate(docs):
        for name in ("auth_client.json", "auth_client.sops.json"):
            problems = validate_file(write(tmp_path / str(i) / name, doc))
            assert problems and not any(SECRET in str(p) for p in problems)


# ---------------------------------------------------------------- encrypted files, no keys needed


def test_real_sops_file_passes_without_keys() -> None:
    doc = fixture_doc()
    assert ENC_PATTERN.match(doc["client_secret"])
    assert doc["sops"]["encrypted_regex"] == ENCRYPTED_REGEX
    assert validate_file(SOPS_FIXTURE) == []


def test_encrypted_rules(tmp_path: Path) -> None:
    def check(mutate: Any) -> list[tuple[str, str]]:
        doc = fixture_doc()
        mutate(doc)
        return where(validate_file(write(tmp_path / "p" / "auth_client.sops.json", doc)))

    assert check(lambda d: d.update(client_secret="hunter2")) == [
        (
            "/client_secret",
            "`client_secret` is not encrypted: encrypt it with `planet-profiles encrypt` "
            "(sops with the project's .sops.yaml)",
        )
    ]
    assert check(lambda d: d.update(client_secret=enc("AAAA", "float"))) == [
        ("/client_secret", "`client_secret` must be a string, but it was encrypted from a float value")
    ]
    assert check(lambda d: d.pop("sops"))[0] == (
        "/sops",
        "not encrypted with sops: the `sops` block is missing; encrypt it with `planet-profiles encrypt` "
        "(sops with the project's .sops.yaml)",
    )
    assert [w for w, _ in check(lambda d: d.update(sops="yes"))] == ["/sops"]
    garbled = check(lambda d: d["sops"].update(mac="deadbeef", age=[], version=""))
    assert [w for w, _ in garbled] == ["/sops", "/sops/mac", "/sops/version"]
    assert all(m.startswith("not encrypted with sops: ") for _, m in garbled)
    assert "names no recipients" in dict(garbled)["/sops"]
    assert check(lambda d: d["sops"].update(age=[{"recipient": "age1..."}])) == [
        (
            "/sops/age/0",
            "not encrypted with sops: `sops.age[0]` is not a recipient entry with an `enc` data key",
        )
    ]
    assert check(lambda d: d["sops"].update(key_groups=[{"pgp": [{"fp": "AB", "enc": "x"}]}], age=[])) == []
    # a non-secret key encrypted: the encrypted_regex was not the project's; no schema noise about it
    got = check(lambda d: d.update(client_id=enc(), scopes=["openid", enc()]))
    assert [w for w, _ in got] == ["/client_id", "/scopes/1"]
    assert f"re-encrypt with the project's encrypted_regex `{ENCRYPTED_REGEX}`" in got[0][1]
    assert [w for w, _ in check(lambda d: d.update(client_type=enc()))] == ["/client_type"]
    # schema problems are still found in an encrypted file
    assert check(lambda d: d.update(scope=["openid"])) == [
        ("/scope", "unknown key `scope` (did you mean `scopes`?)")
    ]


def test_plaintext_files_with_enc_values_are_still_plaintext(tmp_path: Path) -> None:
    doc = {k: v for k, v in fixture_doc().items() if k != "sops"}
    assert [p.pointer for p in validate_file(write(tmp_path / "auth_client.json", doc))] == ["/client_secret"]
    assert validate_file(write(tmp_path / "x" / "other.json", minimal("none"))) == []
    assert validate_file(write(tmp_path / "y" / "prod.sops.json", doc))[0].pointer == "/sops"


# ---------------------------------------------------------------- hypothesis: models and schema agree


def value_for(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "const" in prop:
        return st.just(prop["const"])
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    if prop["type"] == "array":
        return st.lists(value_for(prop["items"]), min_size=prop.get("minItems", 0), max_size=3)
    if "pattern" in prop:
        return st.from_regex(prop["pattern"], fullmatch=True)
    return st.text(min_size=prop.get("minLength", 0), max_size=12)


DNS = st.from_regex(r"[a-z][a-z0-9-]{0,8}\.[a-z]{2,4}", fullmatch=True)


@st.composite
def valid_doc(draw: st.DrawFn, client_type: str | None = None) -> dict[str, Any]:
    client_type = client_type or draw(st.sampled_from(CLIENT_TYPES))
    schema = SCHEMAS[client_type]
    props = schema["properties"]
    optional = sorted(set(props) - set(schema["required"]))
    keys = (
        [*schema["required"], *draw(st.lists(st.sampled_from(optional), unique=True))]
        if optional
        else schema["required"]
    )
    doc = {key: draw(value_for(props[key])) for key in keys}
    for rule in schema.get("allOf", []):
        [(kind, alternatives)] = rule.items()
        group = [alt["required"][0] for alt in alternatives]
        if kind == "oneOf":
            keep = draw(st.sampled_from(group))
            for key in group:
                doc.pop(key, None)
            doc[keep] = draw(value_for(props[keep]))
        elif not any(key in doc for key in group):
            key = draw(st.sampled_from(group))
            doc[key] = draw(value_for(props[key]))
    if "allowed_issuer_hosts" in doc:  # pinned: every server URL on an allowed host
        hosts = draw(st.lists(DNS, min_size=1, max_size=3))
        doc["allowed_issuer_hosts"] = hosts
        for key in PINNED_URL_KEYS:
            if key in doc:
                path = draw(st.from_regex(r"[a-z0-9/]{0,10}", fullmatch=True))
                doc[key] = f"https://{draw(st.sampled_from(hosts))}/{path}"
    return doc


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)


def wrong_value_for(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    others = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.dictionaries(st.text(max_size=3), JSON_SCALARS, max_size=2)
    )
    if prop.get("type") == "array":
        return others | st.text(max_size=5)
    return others | st.lists(JSON_SCALARS, max_size=2)


@st.composite
def invalid_case(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    client_type = draw(st.sampled_from(CLIENT_TYPES))
    doc = draw(valid_doc(client_type))
    schema = SCHEMAS[client_type]
    droppable = [k for k in schema["required"] if k != "client_type"]
    kinds = ["unknown", "wrong_type", "client_type"] + (["drop"] if droppable else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "drop":
        key = draw(st.sampled_from(droppable))
        del doc[key]
    elif kind == "unknown":
        key = draw(
            st.from_regex(r"[a-z$][a-z_]{0,15}", fullmatch=True).filter(
                lambda k: k not in schema["properties"]
            )
        )
        doc[key] = draw(JSON_SCALARS)
    elif kind == "wrong_type":
        key = draw(
            st.sampled_from(sorted(k for k in doc if k != "client_type"))
            if len(doc) > 1
            else st.just("client_type")
        )
        doc[key] = draw(wrong_value_for(schema["properties"][key]))
    else:
        key = "client_type"
        doc[key] = draw(
            st.text(max_size=20).filter(lambda t: t not in CLIENT_TYPES) | st.integers() | st.none()
        )
    return doc, "/" + key


# The same examples every run, so CI is reproducible; `HYPOTHESIS_PROFILE=soak` explores 20x more, at random.
_SOAK = os.environ.get("HYPOTHESIS_PROFILE") == "soak"
CROSS_CHECK = settings(
    max_examples=3000 if _SOAK else 150,
    deadline=None,
    derandomize=not _SOAK,
    suppress_health_check=[HealthCheck.too_slow],
)


@CROSS_CHECK
@given(valid_doc())
def test_valid_documents_pass_both_ways(doc: dict[str, Any]) -> None:
    config = parse_config(doc)
    assert config.to_dict(reveal_secrets=True, exclude_unset=True) == doc
    assert validate_document(doc, file="f") == []
    assert list(INDEX.iter_errors(doc)) == []


@CROSS_CHECK
@given(invalid_case())
def test_invalid_documents_fail_both_ways_at_the_same_key(case: tuple[dict[str, Any], str]) -> None:
    doc, pointer = case
    with pytest.raises(ConfigError) as info:
        parse_config(doc, file="f")
    from_models = where(list(info.value.problems))
    from_schema = where(validate_document(doc, file="f"))
    assert pointer in {w for w, _ in from_models}
    assert from_models == from_schema  # same keys, same words
    assert list(INDEX.iter_errors(doc)) != []


@CROSS_CHECK
@given(valid_doc())
def test_encrypted_documents_pass_without_keys(doc: dict[str, Any]) -> None:
    # a clear value that looks like sops ciphertext (`ENC[`) is rightly a problem in an encrypted file
    assume("ENC[" not in json.dumps({k: v for k, v in doc.items() if k not in SECRET_KEYS}))
    encrypted = {k: enc() if k in SECRET_KEYS else v for k, v in doc.items()}
    encrypted["sops"] = copy.deepcopy(fixture_doc()["sops"])
    assert validate_document(encrypted, file="f.sops.json", encrypted=True) == []


# ---------------------------------------------------------------- cost


def test_ecma_end_of_input_in_patterns() -> None:
    """Python's `$` also matches before a final newline; we use ECMA-262 semantics, as pydantic does."""
    doc = minimal("oidc_device_code", auth_server="https://login.example.com\n")
    assert [p.pointer for p in validate_document(doc, file="f")] == ["/auth_server"]


def test_validate_does_not_import_pydantic() -> None:
    code = (
        "import sys; from planet_profiles._validate import validate_file; "
        "assert validate_file(sys.argv[1]) == []; print('pydantic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(SOPS_FIXTURE)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_a_thousand_files_in_well_under_a_second(tmp_path: Path) -> None:
    texts = [json.dumps(minimal(t)) for t in ("oidc_auth_code", "oidc_device_code", "none")]
    texts.append(SOPS_FIXTURE.read_text())
    paths = []
    for i in range(1000):
        name = "auth_client.sops.json" if i % 4 == 3 else "auth_client.json"
        paths.append(write(tmp_path / f"p{i}" / name, texts[i % 4]))
    start = time.perf_counter()
    problems = [p for path in paths for p in validate_file(path)]
    elapsed = time.perf_counter() - start
    assert problems == []
    assert elapsed < 0.5, f"{elapsed:.3f} s for 1000 files"
