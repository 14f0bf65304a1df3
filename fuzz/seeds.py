#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (stdlib only; run from anywhere).

Each seed is a small valid input in the target's format (see src/*.rs). Files are named by
what they hold, so a regenerated corpus diffs cleanly. `HASTACK_FUZZ_VERBOSE=1` and the
target's binary with the seed as argument shows what a seed does.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


# --- msgpack (what cty writes) ------------------------------------------------------------
def mp(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, Raw):
        return v.b
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


class Raw:
    def __init__(self, b):
        self.b = b


UNKNOWN = Raw(b"\xd4\x00\x00")
# A refined unknown (extension 12): "not null" and a string prefix, as Terraform sends it.
REFINED = Raw(b"\xc7\x03\x0c\x81\x01\xc2")


def dyn(ty, value):
    """A dynamic value: [type JSON as bytes, value]."""
    return [json.dumps(ty, separators=(",", ":")).encode(), value]


# --- CBOR (what the Rust SDK's rpcv2-CBOR writes) ------------------------------------------
def cb_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)


def cb(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, Ts):
        return b"\xc1" + b"\xfb" + struct.pack(">d", v.t)
    if isinstance(v, int):
        return cb_head(0, v) if v >= 0 else cb_head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return cb_head(3, len(b)) + b
    if isinstance(v, list):
        return cb_head(4, len(v)) + b"".join(cb(x) for x in v)
    if isinstance(v, dict):
        return cb_head(5, len(v)) + b"".join(cb(k) + cb(x) for k, x in v.items())
    raise TypeError(v)


class Ts:
    def __init__(self, t):
        self.t = t


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def j(v):
    return json.dumps(v, separators=(",", ":"))


# Type indexes: src/value.rs `types()` and `state_types()`.
T_DYNAMIC, T_RESOURCE, T_LIST_DYN, T_MAP_SET_LIST, T_TUPLE, T_OPT_OBJ, T_NUMBER, T_STRING = range(8)
S_RESOURCE, S_OPT_OBJ, S_ID_DYN = range(3)

RESOURCE = {
    "count": 3,
    "enabled": True,
    "id": "web",
    "label": {"tier": {"value": "front"}},
    "listener": [{"health": {"codes": [200, 301], "path": "/healthz"}, "port": 80, "protocol": "HTTP"}],
    "members": [{"name": "a", "weight": 1.5}, {"name": "b", "weight": None}],
    "meta": None,
    "name": "web",
    "ports": [22, 80, 443],
    "tags": {"env": "prod"},
    "timeouts": {"create": "10m"},
}


def values():
    t = "dynamic_value_msgpack"
    write(t, "dynamic_string", bytes([T_DYNAMIC]) + mp(dyn("string", "hello")))
    write(t, "dynamic_list_number", bytes([T_DYNAMIC]) + mp(dyn(["list", "number"], [1, -7, 2.5, "3.25"])))
    write(t, "dynamic_object", bytes([T_DYNAMIC]) + mp(dyn(["object", {"a": "bool", "b": ["set", "string"]}], {"a": True, "b": ["x"]})))
    res = dict(RESOURCE, meta=dyn(["map", "number"], {"k": 1}))
    write(t, "resource", bytes([T_RESOURCE]) + mp(res))
    plan = dict(RESOURCE, id=UNKNOWN, count=UNKNOWN, name=REFINED, meta=None)
    write(t, "resource_unknowns", bytes([T_RESOURCE]) + mp(plan))
    write(t, "list_dynamic", bytes([T_LIST_DYN]) + mp([dyn("number", 12345678901), None, UNKNOWN]))
    write(t, "map_set_list", bytes([T_MAP_SET_LIST]) + mp({"k": [["a", "b"], []], "n": None}))
    write(t, "tuple", bytes([T_TUPLE]) + mp(["s", 1 << 40, False, dyn(["tuple", ["string"]], ["t"])]))
    write(t, "optional_object", bytes([T_OPT_OBJ]) + mp({"a": "x", "b": [{"n": 0.5}], "c": ["s", True, None]}))
    write(t, "number_text", bytes([T_NUMBER]) + mp("123456789012345678901234567890.000001"))
    write(t, "number_float", bytes([T_NUMBER]) + mp(0.1))
    write(t, "string", bytes([T_STRING]) + mp("héllo"))

    t = "dynamic_value_json"
    write(t, "dynamic_string", bytes([T_DYNAMIC]) + j({"value": "x", "type": "string"}).encode())
    write(t, "dynamic_nested", bytes([T_DYNAMIC]) + j({"value": {"a": [1, 2]}, "type": ["object", {"a": ["list", "number"]}]}).encode())
    write(t, "resource", bytes([T_RESOURCE]) + j(dict(RESOURCE, meta={"value": True, "type": "bool"})).encode())
    write(t, "list_dynamic", bytes([T_LIST_DYN]) + b'[{"value":1e3,"type":"number"},null]')
    write(t, "map_set_list", bytes([T_MAP_SET_LIST]) + j({"k": [["a"], ["b", "c"]]}).encode())
    write(t, "tuple", bytes([T_TUPLE]) + b'["a",1.5e-3,true,{"value":{"k":"v"},"type":["map","string"]}]')
    write(t, "optional_object", bytes([T_OPT_OBJ]) + j({"a": "x", "c": ["s", False, {"value": None, "type": "string"}]}).encode())
    write(t, "number_big", bytes([T_NUMBER]) + b"123456789012345678901234567890.5")
    write(t, "number_string", bytes([T_NUMBER]) + b'"-0.000001"')
    write(t, "unknown_marker", bytes([T_STRING]) + b'{"\\u0000tfplugin:unknown":true}')

    t = "state_upgrade_json"
    write(t, "resource_current", bytes([S_RESOURCE]) + j(RESOURCE).encode())
    write(t, "resource_dropped_attribute", bytes([S_RESOURCE]) + j(dict(RESOURCE, legacy_port=8080)).encode())
    write(t, "optional_object", bytes([S_OPT_OBJ]) + j({"a": "x", "b": [{"n": 2}]}).encode())
    write(t, "dynamic_value", bytes([S_ID_DYN]) + j({"id": "i-1", "value": {"value": ["a"], "type": ["set", "string"]}}).encode())
    write(t, "null", bytes([S_RESOURCE]) + b"null")


def emulator_json():
    t = "emulator_json11"
    ls = "Lightsail_20161128."
    write(t, "lightsail_instances", "\n".join([
        ls + "GetRegions " + j({"includeAvailabilityZones": True}),
        ls + "CreateInstances " + j({"instanceNames": ["web-1", "web-2"], "availabilityZone": "us-east-1a", "blueprintId": "ubuntu_22_04", "bundleId": "nano_3_0", "tags": [{"key": "env", "value": "prod"}]}),
        ls + "GetInstance " + j({"instanceName": "web-1"}),
        ls + "OpenInstancePublicPorts " + j({"instanceName": "web-1", "portInfo": {"fromPort": 80, "toPort": 80, "protocol": "tcp", "cidrs": ["0.0.0.0/0"]}}),
        ls + "GetInstancePortStates " + j({"instanceName": "web-1"}),
        ls + "StopInstance " + j({"instanceName": "web-2"}),
        ls + "GetOperations " + j({}),
        ls + "DeleteInstance " + j({"instanceName": "web-2"}),
    ]))
    write(t, "lightsail_load_balancer", "\n".join([
        ls + "CreateInstances " + j({"instanceNames": ["web-a"], "availabilityZone": "us-east-1a", "blueprintId": "ubuntu_22_04", "bundleId": "nano_3_0"}),
        ls + "CreateLoadBalancer " + j({"loadBalancerName": "lb", "instancePort": 80, "healthCheckPath": "/"}),
        ls + "AttachInstancesToLoadBalancer " + j({"loadBalancerName": "lb", "instanceNames": ["web-a"]}),
        ls + "GetLoadBalancer " + j({"loadBalancerName": "lb"}),
        ls + "TagResource " + j({"resourceName": "lb", "tags": [{"key": "k", "value": "v"}]}),
        ls + "DeleteLoadBalancer " + j({"loadBalancerName": "lb"}),
    ]))
    doc = {"schemaVersion": "2.2", "description": "d", "parameters": {"who": {"type": "String", "default": "x", "allowedPattern": "^[a-z]+$"}},
           "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo {{ who }}"]}}]}
    write(t, "ssm_documents_parameters", "\n".join([
        "AmazonSSM.PutParameter " + j({"Name": "/db/password", "Value": "hunter2", "Type": "SecureString"}),
        "AmazonSSM.GetParameter " + j({"Name": "/db/password", "WithDecryption": True}),
        "AmazonSSM.PutParameter " + j({"Name": "/db/password", "Value": "again", "Type": "SecureString", "Overwrite": True}),
        "AmazonSSM.GetParameters " + j({"Names": ["/db/password:1", "/nope"]}),
        "AmazonSSM.CreateDocument " + j({"Name": "Hello", "Content": j(doc), "DocumentType": "Command", "DocumentFormat": "JSON"}),
        "AmazonSSM.DescribeDocument " + j({"Name": "Hello"}),
        "AmazonSSM.SendCommand " + j({"DocumentName": "Hello", "InstanceIds": ["mi-0123456789abcdef0"], "Parameters": {"who": ["me"]}}),
        "AmazonSSM.CreateAssociation " + j({"Name": "Hello", "Targets": [{"Key": "tag:role", "Values": ["web"]}], "Parameters": {"who": ["x"]}}),
        "AmazonSSM.ListAssociations " + j({}),
    ]))
    write(t, "ssm_activations_sessions", "\n".join([
        "AmazonSSM.CreateActivation " + j({"IamRole": "SSMRole", "RegistrationLimit": 2, "DefaultInstanceName": "node", "Tags": [{"Key": "k", "Value": "v"}]}),
        "AmazonSSM.DescribeActivations " + j({"Filters": [{"FilterKey": "DefaultInstanceName", "FilterValues": ["node"]}]}),
        "AmazonSSM.GetServiceSetting " + j({"SettingId": "/ssm/managed-instance/activation-tier"}),
        "AmazonSSM.StartSession " + j({"Target": "mi-0123456789abcdef0", "DocumentName": "AWS-StartInteractiveCommand", "Parameters": {"command": ["uptime"]}}),
        "AmazonSSM.DescribeSessions " + j({"State": "Active"}),
        "AmazonSSM.ListCommands " + j({}),
    ]))
    lg = "Logs_20140328."
    write(t, "logs", "\n".join([
        lg + "CreateLogGroup " + j({"logGroupName": "/app", "tags": {"k": "v"}}),
        lg + "CreateLogStream " + j({"logGroupName": "/app", "logStreamName": "s"}),
        lg + "PutLogEvents " + j({"logGroupName": "/app", "logStreamName": "s", "logEvents": [{"timestamp": 1767225600000, "message": "{\"latency\": 150}"}, {"timestamp": 1767225601000, "message": "ERROR x"}]}),
        lg + "PutMetricFilter " + j({"logGroupName": "/app", "filterName": "slow", "filterPattern": "{ $.latency > 100 }", "metricTransformations": [{"metricName": "Slow", "metricNamespace": "App", "metricValue": "1"}]}),
        lg + "FilterLogEvents " + j({"logGroupName": "/app", "filterPattern": "?ERROR ?WARN"}),
        lg + "GetLogEvents " + j({"logGroupName": "/app", "logStreamName": "s", "nextToken": "f/1", "limit": 1}),
        lg + "PutRetentionPolicy " + j({"logGroupName": "/app", "retentionInDays": 7}),
        lg + "DescribeLogGroups " + j({"logGroupNamePrefix": "/"}),
    ]))
    cw = "GraniteServiceVersion20100801."
    write(t, "cloudwatch_json10", "\n".join([
        cw + "PutMetricData " + j({"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": 1767225600, "Value": 12.5, "Unit": "Milliseconds"}]}),
        cw + "GetMetricStatistics " + j({"Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "StartTime": 1767225000, "EndTime": 1767226000, "Period": 60, "Statistics": ["Average", "Maximum"]}),
        cw + "PutMetricAlarm " + j({"AlarmName": "slow", "Namespace": "App", "MetricName": "Latency", "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 10, "ComparisonOperator": "GreaterThanThreshold"}),
        cw + "DescribeAlarms " + j({}),
    ]))

    t = "emulator_cbor"
    ops = all_operations()

    def call(op, body):
        data = cb(body)
        return bytes([ops.index(op)]) + struct.pack(">H", len(data)) + data

    write(t, "cloudwatch_metrics", b"".join([
        call(("CloudWatch", "PutMetricData"), {"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": Ts(1767225600.0), "Value": 12.5, "Unit": "Milliseconds"}, {"MetricName": "Latency", "Values": [1.0, 2.0], "Counts": [3.0, 1.0]}]}),
        call(("CloudWatch", "GetMetricData"), {"StartTime": Ts(1767225000.0), "EndTime": Ts(1767226000.0), "MetricDataQueries": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}]}, "Period": 60, "Stat": "p90"}}, {"Id": "e1", "Expression": "m1 * 2"}]}),
        call(("CloudWatch", "ListMetrics"), {"Namespace": "App"}),
    ]))
    write(t, "cloudwatch_alarms", b"".join([
        call(("CloudWatch", "PutMetricAlarm"), {"AlarmName": "slow", "Namespace": "App", "MetricName": "Latency", "Statistic": "Average", "Period": 60, "EvaluationPeriods": 2, "DatapointsToAlarm": 1, "Threshold": 10.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "breaching"}),
        call(("CloudWatch", "DescribeAlarms"), {"AlarmNames": ["slow"]}),
        call(("CloudWatch", "DeleteAlarms"), {"AlarmNames": ["slow"]}),
    ]))
    write(t, "ssm_over_cbor", call(("SSM", "PutParameter"), {"Name": "/p", "Value": "v", "Type": "String"}) + call(("SSM", "GetParameter"), {"Name": "/p"}))
    write(t, "empty_body", bytes([ops.index(("CloudWatch", "DescribeAlarms"))]) + b"\x00\x00")


def all_operations():
    """Every service's operations in registry order, as src/emulator.rs lists them (read from
    the emulator's operation tables)."""
    src = os.path.join(HERE, "..", "emulator", "src")
    tables = [("Lightsail", "lightsail/wire.rs"), ("SSM", "ssm/wire/mod.rs"), ("Logs", "logs/wire.rs"),
              ("CloudWatch", "cloudwatch/wire.rs"), ("STS", "sts/wire.rs")]
    import re
    out = []
    for svc, path in tables:
        text = open(os.path.join(src, path)).read()
        table = text[text.index("OPERATIONS"):]
        table = table[: table.index("];")]
        out += [(svc, m) for m in re.findall(r'\(\s*"([A-Za-z]+)",', table)]
    return out


def emulator_query():
    t = "emulator_query"
    policy = j({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ssm:StartSession"], "Resource": "arn:aws:ssm:*:*:document/AWS-StartPortForwardingSession", "Condition": {"StringLike": {"ssm:resourceTag/role": ["web*"]}}}]})
    from urllib.parse import urlencode
    write(t, "caller_identity", urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"}))
    write(t, "assume_role_policy", "\n".join([
        urlencode({"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::123456789012:role/ops", "RoleSessionName": "alice", "DurationSeconds": "900", "Policy": policy}),
        urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"}),
    ]))
    import base64

    def b64(d):
        return base64.urlsafe_b64encode(j(d).encode()).rstrip(b"=").decode()

    token = b64({"alg": "none"}) + "." + b64({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com", "exp": 1767229200}) + ".sig"
    write(t, "web_identity", urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::123456789012:role/ci", "RoleSessionName": "ci", "WebIdentityToken": token}))


def agent_messages():
    t = "emulator_agent_message"

    def frame(kind, seq, payload_type, payload, flags=0):
        h = struct.pack(">I", 116) + kind.encode().ljust(32, b" ") + struct.pack(">I", 1)
        h += struct.pack(">Q", 1767225600000) + struct.pack(">q", seq) + struct.pack(">Q", flags)
        h += bytes(range(16)) + bytes(32) + struct.pack(">I", payload_type) + struct.pack(">I", len(payload))
        return h + payload

    write(t, "input_output", frame("input_stream_data", 0, 1, b"ls -l\r"))
    write(t, "input_size", frame("input_stream_data", 1, 3, b'{"cols":120,"rows":40}'))
    write(t, "input_flag_terminate", frame("input_stream_data", 2, 10, struct.pack(">I", 2)))
    write(t, "handshake_response", frame("input_stream_data", 0, 6, j({"ClientVersion": "1.2.0", "ProcessedClientActions": [{"ActionType": "SessionType", "ActionStatus": 1}]}).encode()))
    write(t, "acknowledge", frame("acknowledge", 0, 0, j({"AcknowledgedMessageType": "output_stream_data", "AcknowledgedMessageId": "00010203-0405-0607-0809-0a0b0c0d0e0f", "AcknowledgedMessageSequenceNumber": 0, "IsSequentialMessage": True}).encode()))
    write(t, "output_ansi", frame("output_stream_data", 5, 1, b"\x1b[1;32mok\x1b[0m\r\n\x1b]0;title\x07"))


def sigv4():
    t = "sigv4_header"
    auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    # AWS's get-vanilla test vector: verifies.
    write(t, "get_vanilla", "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nauthorization:" + auth + "\n\n")
    write(t, "post_json_query", "POST\n/path/%7Euser/a%20b\nb=2&a=1&c\nhost:ssm.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-target:AmazonSSM.GetParameter\nx-amz-content-sha256:UNSIGNED-PAYLOAD\ncontent-type:application/x-amz-json-1.1\nauthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00\n\n{\"Name\":\"/p\"}")
    write(t, "temporary_credentials", "POST\n/\n\nhost:sts.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:session-token\nauthorization:AWS4-HMAC-SHA256 Credential=ASIAFUZZLIVE/20150830/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=ab\n\nAction=GetCallerIdentity")
    write(t, "expired_credentials", "GET\n/\n\nx-amz-date:20150830T123600Z\nauthorization:AWS4-HMAC-SHA256 Credential=ASIAFUZZGONE/20150830/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=ab\n\n")
    write(t, "skewed_date", "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T130000Z\nauthorization:" + auth + "\n\n")


def ssm_documents():
    t = "ssm_document_params"
    cmd = {"schemaVersion": "2.2", "description": "Install", "parameters": {
        "packages": {"type": "StringList", "default": ["nginx", "curl"]},
        "dir": {"type": "String", "default": "/opt", "allowedPattern": "^/[a-z/]*$"},
        "mode": {"type": "String", "allowedValues": ["fast", "safe"]},
        "timeout": {"type": "String", "default": "600"}},
        "mainSteps": [{"action": "aws:runShellScript", "name": "install", "inputs": {
            "runCommand": ["set -euo pipefail", "cd {{ dir }}", "apt-get install -y {{packages}} # {{ mode }}"],
            "workingDirectory": "{{ dir }}", "timeoutSeconds": "{{ timeout }}"}}]}
    write(t, "command_parameters", j({"mode": ["fast"], "dir": "/srv"}) + "\n" + j(cmd))
    write(t, "command_missing_required", "{}\n" + j(cmd))
    write(t, "command_string_step", j({}) + "\n" + j({"schemaVersion": "1.2", "runtimeConfig": {}, "mainSteps": [{"action": "aws:runShellScript", "inputs": {"runCommand": "echo {{ unclosed"}}]}))
    sess = {"schemaVersion": "1.0", "description": "Command", "sessionType": "InteractiveCommands",
            "parameters": {"command": {"type": "String"}, "dir": {"type": "String", "default": "/tmp"}},
            "properties": {"linux": {"commands": "cd {{ dir }} && {{command}}", "runAsElevated": True}}}
    write(t, "session_commands", j({"command": ["uptime"]}) + "\n" + j(sess))
    std = {"schemaVersion": "1.0", "description": "Prefs", "sessionType": "Standard_Stream",
           "inputs": {"runAsEnabled": True, "runAsDefaultUser": "ubuntu", "idleSessionTimeout": "20", "maxSessionDuration": 60,
                      "cloudWatchLogGroupName": "{{ group }}", "cloudWatchStreamingEnabled": True, "shellProfile": {"linux": "exec bash"}}}
    write(t, "session_standard_stream", "\n" + j(std))


if __name__ == "__main__":
    values()
    emulator_json()
    emulator_query()
    agent_messages()
    sigv4()
    ssm_documents()
