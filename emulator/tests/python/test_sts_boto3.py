"""STS through boto3 (awsQuery: form in, XML out), parsed by botocore against its model."""
import base64
import json
import time

import pytest
from botocore.exceptions import ClientError


def jwt(claims):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return "%s.%s.c2ln" % (enc({"alg": "RS256"}), enc(claims))


def test_sts_identity_assume_role_and_web_identity(make_client, endpoint):
    sts = make_client("sts")
    me = sts.get_caller_identity()
    assert (me["Account"], me["Arn"]) == ("123456789012", "arn:aws:iam::123456789012:root")
    out = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/ops", RoleSessionName="py", DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["Expiration"].tzinfo is not None
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::210987654321:assumed-role/ops/py"
    as_role = make_client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    assert as_role.get_caller_identity()["Account"] == "210987654321"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:s3:::not-a-role-at-all", RoleSessionName="py")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    token = jwt({"iss": "https://app.terraform.io", "aud": "aws.workload.identity", "sub": "organization:o:workspace:w",
                 "exp": int(time.time()) + 600})
    wi = make_client("sts").assume_role_with_web_identity(
        RoleArn="arn:aws:iam::123456789012:role/tfc", RoleSessionName="run", WebIdentityToken=token)
    assert (wi["Audience"], wi["Provider"]) == ("aws.workload.identity", "app.terraform.io")
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::123456789012:role/tfc", RoleSessionName="run",
                                          WebIdentityToken="garbage")
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_session_policy_limits_start_session(make_client, endpoint):
    """AssumeRole's Policy: checked (MalformedPolicyDocument), sized (PackedPolicySize), and
    enforced by StartSession (AccessDeniedException, as SSM answers an IAM denial)."""
    from test_ssm_logs_cloudwatch_boto3 import register
    ssm = make_client("ssm")
    nodes = {}
    for group in ("web", "db"):
        act = ssm.create_activation(IamRole="HastackSSMRole", Tags=[{"Key": "hastack:group", "Value": group}])
        nodes[group] = register(endpoint, act)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": "arn:aws:ssm:us-east-1:123456789012:managed-instance/*",
         "Condition": {"StringLike": {"ssm:resourceTag/hastack:group": ["web"]},
                       "BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}},
        {"Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": "arn:aws:ssm:us-east-1:123456789012:document/SSM-SessionManagerRunShell"}]}
    sts = make_client("sts")
    out = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/operator", RoleSessionName="op",
                          Policy=json.dumps(policy, indent=2))
    assert 1 <= out["PackedPolicySize"] <= 100
    creds = out["Credentials"]
    as_op = make_client("ssm", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                        token=creds["SessionToken"])
    as_op.terminate_session(SessionId=as_op.start_session(Target=nodes["web"])["SessionId"])
    with pytest.raises(ClientError) as e:
        as_op.start_session(Target=nodes["db"])
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "is not authorized to perform: ssm:StartSession on resource: arn:aws:ssm:us-east-1:123456789012:managed-instance/%s" % nodes["db"] in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/operator", RoleSessionName="op", Policy="{")
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"
