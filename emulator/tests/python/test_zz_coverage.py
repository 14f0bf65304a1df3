"""Runs last: every operation hastack-local implements (its operation tables, as
`/_hastack/status` lists them) was model-checked by this suite and called by the Rust SDK suites."""
import json
import os
import urllib.request

import pytest

import conftest


def test_every_implemented_operation_was_model_checked(endpoint):
    status = json.load(urllib.request.urlopen(endpoint + "/_hastack/status", timeout=5))
    # Keyed by botocore's service names: the list comes from hastack-local's operation tables.
    implemented = {"%s.%s" % (svc, op) for svc, ops in status["services"].items() for op in ops}
    missing = implemented - conftest.COVERED
    assert not missing, "not exercised through boto3: %s" % sorted(missing)


def test_rust_sdk_suites_exercised_every_operation(endpoint):
    """scripts/test.sh has the Rust SDK suites log the operations they called."""
    path = os.environ.get("HASTACK_SDK_CALL_LOG")
    if not path or not os.path.exists(path):
        pytest.skip("HASTACK_SDK_CALL_LOG not set: run through scripts/test.sh")
    called = {line.strip() for line in open(path) if line.strip()}
    status = json.load(urllib.request.urlopen(endpoint + "/_hastack/status", timeout=5))
    names = status["service_names"]
    implemented = {"%s.%s" % (names[svc], op) for svc, ops in status["services"].items() for op in ops}
    print("Rust SDK suites covered %d operations: %s" % (len(implemented & called), ", ".join(sorted(implemented & called))))
    assert not implemented - called, "not exercised by the Rust SDK suites: %s" % sorted(implemented - called)
