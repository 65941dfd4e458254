"""Schemathesis against the live service's OpenAPI document: every endpoint, no 5xx, answers as documented."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.harness import Harness, running_harness

CHECKS = (
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_harness(tmp_path_factory.mktemp("openapi"), pos=True) as h:
        yield h


def test_every_endpoint_answers_as_documented(live: Harness) -> None:
    # Driven through schemathesis' Python API: its pytest plugin does not load under pytest 9.
    schema = schemathesis.openapi.from_url(f"{live.service.url}/openapi.json")
    headers = {"Authorization": live.kiosk.headers["Authorization"]}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case) -> None:
            if case.query and "wait" in case.query:
                case.query["wait"] = 0  # a long poll would only make the run slow
            response = case.call(headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        exercise()
        tested.append(operation.label)
    assert len(tested) >= 15, tested  # every documented operation was exercised
