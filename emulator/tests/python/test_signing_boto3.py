"""hastack-local refuses requests AWS refuses: signed with another secret, signed more than
15 minutes ago (or ahead), or with a body other than the one signed. Requests are signed by
botocore's own SigV4 signer, sent over plain HTTP, and the answers checked like AWS's."""
import datetime
import json
import urllib.error
import urllib.request
from unittest import mock

import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest

KEY, SECRET = "AKIAHASTACKLOCAL0001", "hastack-local-secret"


def send(endpoint, secret=SECRET, skew=None, body=b"{}", tamper=None, content_hash=False):
    """A signed Lightsail GetRegions call: (HTTP status, error code or None, message)."""
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "Lightsail_20161128.GetRegions"}
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    if content_hash:
        # Sign the payload's hash as a header (as S3 clients do): the body must still match it.
        req.headers["X-Amz-Content-SHA256"] = botocore.auth.SigV4Auth(None, "", "").payload(req)
    signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY, secret), "lightsail", "us-east-1")
    if skew is None:
        signer.add_auth(req)
    else:
        when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + skew
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(req)
    prepared = req.prepare()
    data = tamper if tamper is not None else prepared.body
    r = urllib.request.Request(prepared.url, data=data, method="POST", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(r, timeout=5) as resp:
            return resp.status, None, ""
    except urllib.error.HTTPError as e:
        answer = json.loads(e.read() or b"{}")
        code = answer.get("__type", "").split("#")[-1]
        return e.code, code, answer.get("message") or answer.get("Message", "")


def test_a_correctly_signed_request_is_served(endpoint):
    assert send(endpoint) == (200, None, "")
    # Within the 15 minutes AWS allows either way.
    assert send(endpoint, skew=datetime.timedelta(minutes=-14))[0] == 200
    assert send(endpoint, skew=datetime.timedelta(minutes=14))[0] == 200


def test_another_secret_key_is_refused(endpoint):
    status, code, _ = send(endpoint, secret="not-the-secret")
    assert (status, code) == (400, "InvalidSignatureException")


def test_a_signature_older_than_15_minutes_is_refused(endpoint):
    status, code, message = send(endpoint, skew=datetime.timedelta(minutes=-16))
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith("Signature expired: ") and "- 15 min.)" in message, message
    status, code, message = send(endpoint, skew=datetime.timedelta(minutes=16))
    assert (status, code) == (400, "InvalidSignatureException")
    assert "Signature not yet current" in message, message


def test_a_tampered_body_is_refused(endpoint):
    other = b'{"includeAvailabilityZones": true}'
    status, code, _ = send(endpoint, tamper=other)
    assert (status, code) == (400, "InvalidSignatureException")
    # Also when the payload hash travels as a signed header.
    assert send(endpoint, content_hash=True)[0] == 200
    status, code, _ = send(endpoint, content_hash=True, tamper=other)
    assert (status, code) == (400, "InvalidSignatureException")
