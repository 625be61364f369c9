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
