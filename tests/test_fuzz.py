"""Schemathesis against the real gunicorn server, generated from its own /openapi.json.

Every operation in the live document is fuzzed with positive (schema-valid) and
negative (schema-violating) cases, sent over HTTP to gunicorn, and every
response must pass schemathesis's not_a_server_error, status_code_conformance,
content_type_conformance and response_schema_conformance checks. On top of
schemathesis's status check (which a ``default`` response would satisfy for
any code) each status must be one the operation lists explicitly.

Why not ``schemathesis.pytest.from_fixture``: its lazy loader sets
``request.node._nodeid``, which pytest 9 no longer has. ``APIOperation.as_strategy``
with Hypothesis's ``@given`` is schemathesis's documented route for that case.
Generation is derandomized (Hypothesis's fixed seed), so a run is repeatable.
"""

from __future__ import annotations

import collections
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_MODE = 500  # per operation that takes input; parameterless GETs have exactly one case
# The labeling operations touch the database: fewer cases each keep the run short.
LABELING_EXAMPLES = 60
MIN_TOTAL_CASES = 1000
EXPECTED_OPERATIONS = {
    "POST /v1/predict", "POST /v1/predict/batch", "GET /v1/model", "GET /health", "GET /ready",
    "GET /v1/projects", "POST /v1/projects/{project}/documents", "GET /v1/projects/{project}/queue",
    "POST /v1/projects/{project}/labels", "DELETE /v1/projects/{project}/labels/{sentence_id}",
    "POST /v1/projects/{project}/skips", "PUT /v1/projects/{project}/sentences/{sentence_id}/gold",
    "GET /v1/projects/{project}/sentences/{sentence_id}/history", "GET /v1/projects/{project}/progress",
    "GET /v1/projects/{project}/agreement",
}


def _takes_input(operation) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def test_every_operation_survives_schemathesis(server):
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json", timeout=10)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == EXPECTED_OPERATIONS

    cases: collections.Counter = collections.Counter()
    statuses: collections.Counter = collections.Counter()
    media: collections.Counter = collections.Counter()
    undocumented: list[str] = []
    started = time.monotonic()

    def fuzz(operation, mode, session):
        documented = {code for code in operation.definition.raw["responses"] if code != "default"}

        @settings(
            max_examples=LABELING_EXAMPLES if "/projects" in operation.label else EXAMPLES_PER_MODE,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            cases[(operation.label, mode.value)] += 1
            media[case.media_type] += 1
            response = case.call_and_validate(base_url=server.url, session=session, checks=CHECKS, timeout=30)
            statuses[(operation.label, response.status_code)] += 1
            if str(response.status_code) not in documented:
                undocumented.append(f"{operation.label} -> {response.status_code}")
            assert response.status_code < 500

        run()

    with requests.Session() as session:
        for operation in operations:
            fuzz(operation, GenerationMode.POSITIVE, session)
            if _takes_input(operation):  # nothing to break in a parameterless GET
                fuzz(operation, GenerationMode.NEGATIVE, session)
    elapsed = time.monotonic() - started
    total = sum(cases.values())
    print(f"\nschemathesis: {total} cases in {elapsed:.1f}s; per operation/mode {dict(cases)}")
    print(f"media types {dict(media)}; statuses {dict(sorted(statuses.items()))}")
    assert sorted(set(undocumented)) == []
    assert total >= MIN_TOTAL_CASES
    assert all(cases[(label, "positive")] >= 1 for label in EXPECTED_OPERATIONS)
    assert not any(code >= 500 for _, code in statuses)
    # The fuzzer reached both the success path and the validation path.
    assert statuses[("POST /v1/predict", 200)] > 0 and statuses[("POST /v1/predict", 422)] > 0
    assert statuses[("POST /v1/predict/batch", 200)] > 0
    # The server is still healthy afterwards.
    assert requests.get(server.url + "/ready", timeout=10).status_code == 200
