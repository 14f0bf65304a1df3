"""Runs last: every operation hastack-local implements was model-checked by this suite."""
import json
import urllib.request

import conftest


def test_every_implemented_operation_was_model_checked(endpoint):
    status = json.load(urllib.request.urlopen(endpoint + "/_hastack/status", timeout=5))
    names = {"lightsail": "lightsail", "ssm": "ssm", "logs": "logs", "cloudwatch": "cloudwatch"}
    implemented = {"%s.%s" % (names[svc], op) for svc, ops in status["services"].items() for op in ops}
    missing = implemented - conftest.COVERED
    assert not missing, "not exercised through boto3: %s" % sorted(missing)
