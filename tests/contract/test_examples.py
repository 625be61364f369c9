"""README's contract examples validated by a standard JSON Schema validator (the draft each
schema names, formats checked) against what `sfprivacy schema` prints."""

import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ["SFPRIVACY_BIN"]


def schemas():
    out = subprocess.run([BIN, "schema"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def readme_examples():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)]


SCHEMAS = schemas()


def validator(kind):
    schema = SCHEMAS[kind]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("example", readme_examples(), ids=lambda e: e.get("type", "?"))
def test_readme_example_validates(example):
    validator(example["type"]).validate(example)


def test_a_wrong_example_is_refused():
    bad = {"type": "dsr.request", "version": 1, "request_id": "r-1", "connection_id": "c",
           "action": "purge", "subject": {"emails": ["a@example.com"]}}
    with pytest.raises(jsonschema.ValidationError):
        validator("dsr.request").validate(bad)


def test_every_message_type_has_a_valid_schema():
    for kind in ["dsr.request", "scan.request", "scan.part", "dsr.result", "dsr.export_chunk",
                 "scan.result", "progress"]:
        validator(kind)


CASES = json.loads((ROOT / "tests" / "contract" / "requests.json").read_text(encoding="utf-8"))


def build_case(case):
    """The case's body as tests/contract_examples.rs builds it (the worker's side)."""
    if "body" in case:
        return case["body"]
    body = json.loads(json.dumps(CASES["bases"][case["base"]]))
    def parent(ptr):
        *path, key = ptr.split("/")[1:]
        node = body
        for p in path:
            node = node[p]
        return node, key
    for ptr, value in case.get("set", {}).items():
        node, key = parent(ptr)
        node[key] = value
    for ptr in case.get("remove", []):
        node, key = parent(ptr)
        del node[key]
    return body


def kind(body):
    return body.get("type") if isinstance(body, dict) else None


def case_id(case):
    return case["rule"]


@pytest.mark.parametrize("case", CASES["accepted"], ids=case_id)
def test_the_schema_accepts_what_the_worker_accepts(case):
    body = build_case(case)
    validator(kind(body)).validate(body)


@pytest.mark.parametrize("case", CASES["refused"], ids=case_id)
def test_the_schema_refuses_what_the_worker_refuses(case):
    body = build_case(case)
    # A body the worker refuses for its type is checked against the schema its base names.
    schema_kind = CASES["bases"][case["base"]]["type"]
    errors = list(validator(schema_kind).iter_errors(body))
    assert errors, f"schema accepts {body!r}"


@pytest.mark.parametrize("case", CASES["schema_gaps"], ids=case_id)
def test_the_schema_gaps_are_still_gaps(case):
    """Rules JSON Schema cannot express: the schema accepts these (the worker refuses them, see
    tests/contract_examples.rs). Should the schema learn one, move the case to `refused`."""
    body = build_case(case)
    validator(kind(body)).validate(body)
