"""SSM, CloudWatch Logs and CloudWatch through boto3 (CloudWatch over botocore's own protocol
choice), every response model-checked by conftest's hook."""
import datetime
import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError


def register(endpoint, activation):
    req = urllib.request.Request(endpoint + "/_hastack/ssm/register", method="POST",
                                 data=json.dumps({"code": activation["ActivationCode"],
                                                  "id": activation["ActivationId"],
                                                  "hostname": "py-host", "ip": "198.18.0.9"}).encode())
    return json.load(urllib.request.urlopen(req, timeout=5))["instanceId"]


def test_ssm_end_to_end(make_client, endpoint):
    ssm = make_client("ssm")
    act = ssm.create_activation(IamRole="HastackSSMRole", RegistrationLimit=2,
                                Tags=[{"Key": "stack", "Value": "py"}])
    node = register(endpoint, act)
    assert ssm.describe_activations()["ActivationList"]
    info = ssm.describe_instance_information(Filters=[{"Key": "tag:stack", "Values": ["py"]}])
    assert info["InstanceInformationList"][0]["PingStatus"] == "Online"
    doc = {"schemaVersion": "2.2", "description": "d", "parameters": {},
           "mainSteps": [{"action": "aws:runShellScript", "name": "s", "inputs": {"runCommand": ["true"]}}]}
    ssm.create_document(Name="py-doc", Content=json.dumps(doc), DocumentType="Command")
    doc["description"] = "d2"
    ssm.update_document(Name="py-doc", Content=json.dumps(doc), DocumentVersion="$LATEST")
    ssm.update_document_default_version(Name="py-doc", DocumentVersion="2")
    assert ssm.describe_document(Name="py-doc")["Document"]["DefaultVersion"] == "2"
    assert "d2" in ssm.get_document(Name="py-doc")["Content"]
    cmd = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node],
                           Parameters={"commands": ["echo hi"]})["Command"]
    deadline = time.time() + 5
    while True:
        inv = ssm.get_command_invocation(CommandId=cmd["CommandId"], InstanceId=node)
        if inv["Status"] not in ("Pending", "InProgress"):
            break
        assert time.time() < deadline
        time.sleep(0.1)
    assert inv["Status"] == "Failed" and "not backed by a hastack-local host" in inv["StandardErrorContent"]
    assert ssm.list_commands(CommandId=cmd["CommandId"])["Commands"][0]["Status"] == "Failed"
    assert ssm.list_command_invocations(CommandId=cmd["CommandId"], Details=True)["CommandInvocations"]
    ssm.cancel_command(CommandId=cmd["CommandId"])
    ssm.put_parameter(Name="/py/secret", Value="pa55", Type="SecureString")
    assert ssm.get_parameter(Name="/py/secret", WithDecryption=True)["Parameter"]["Value"] == "pa55"
    assert ssm.get_parameter(Name="/py/secret")["Parameter"]["Value"] != "pa55"
    assert ssm.get_parameters(Names=["/py/secret", "/nope"])["InvalidParameters"] == ["/nope"]
    ssm.delete_parameter(Name="/py/secret")
    setting = "/ssm/managed-instance/activation-tier"
    ssm.update_service_setting(SettingId=setting, SettingValue="advanced")
    assert ssm.get_service_setting(SettingId=setting)["ServiceSetting"]["SettingValue"] == "advanced"
    sid = ssm.start_session(Target=node)["SessionId"]
    assert ssm.describe_sessions(State="Active")["Sessions"][0]["SessionId"] == sid
    ssm.terminate_session(SessionId=sid)
    ssm.delete_document(Name="py-doc")
    ssm.deregister_managed_instance(InstanceId=node)
    ssm.delete_activation(ActivationId=act["ActivationId"])
    with pytest.raises(ssm.exceptions.InvalidActivationId):
        ssm.delete_activation(ActivationId=act["ActivationId"])


def test_logs_and_cloudwatch(make_client):
    logs = make_client("logs")
    cw = make_client("cloudwatch")
    logs.create_log_group(logGroupName="/py/app")
    logs.put_retention_policy(logGroupName="/py/app", retentionInDays=30)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName="/py/app", retentionInDays=2)
    logs.create_log_stream(logGroupName="/py/app", logStreamName="s1")
    logs.put_metric_filter(logGroupName="/py/app", filterName="err", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Err", "metricNamespace": "Py",
                                                   "metricValue": "1"}])
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/py/app", logStreamName="s1",
                        logEvents=[{"timestamp": now, "message": "ERROR boom"},
                                   {"timestamp": now + 1, "message": "fine"}])
    assert [e["message"] for e in logs.get_log_events(logGroupName="/py/app", logStreamName="s1",
                                                      startFromHead=True)["events"]] == ["ERROR boom", "fine"]
    assert len(logs.filter_log_events(logGroupName="/py/app", filterPattern="ERROR")["events"]) == 1
    assert logs.describe_log_streams(logGroupName="/py/app")["logStreams"]
    assert logs.describe_metric_filters(logGroupName="/py/app")["metricFilters"]
    arn = logs.describe_log_groups(logGroupNamePrefix="/py")["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"a": "b"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "b"}
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])

    cw.put_metric_alarm(AlarmName="py-err", Namespace="Py", MetricName="Err", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    alarm = cw.describe_alarms(AlarmNames=["py-err"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    t = datetime.datetime.now(datetime.timezone.utc)
    cw.put_metric_data(Namespace="Py", MetricData=[{"MetricName": "Lat", "Value": 5.0, "Unit": "Milliseconds"}])
    stats = cw.get_metric_statistics(Namespace="Py", MetricName="Lat", StartTime=t - datetime.timedelta(minutes=5),
                                     EndTime=t + datetime.timedelta(minutes=5), Period=600, Statistics=["Maximum"])
    assert stats["Datapoints"][0]["Maximum"] == 5.0
    data = cw.get_metric_data(MetricDataQueries=[{"Id": "l", "MetricStat": {"Metric": {"Namespace": "Py", "MetricName": "Lat"},
                                                                           "Period": 600, "Stat": "Sum"}}],
                              StartTime=t - datetime.timedelta(minutes=5), EndTime=t + datetime.timedelta(minutes=5))
    assert data["MetricDataResults"][0]["Values"] == [5.0]
    assert cw.list_metrics(Namespace="Py")["Metrics"]
    cw.delete_alarms(AlarmNames=["py-err"])
    logs.delete_metric_filter(logGroupName="/py/app", filterName="err")
    logs.delete_log_stream(logGroupName="/py/app", logStreamName="s1")
    logs.delete_retention_policy(logGroupName="/py/app")
    logs.delete_log_group(logGroupName="/py/app")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName="/py/app")


@pytest.mark.parametrize("service", ["lightsail", "ssm", "logs", "cloudwatch"])
def test_missing_required_members_are_rejected(make_client, endpoint, service):
    """For every implemented operation whose input shape has required members, an empty
    request is answered with a declared 4xx error (never success, never a 5xx)."""
    status = json.load(urllib.request.urlopen(endpoint + "/_hastack/status", timeout=5))
    c = make_client(service, validate=False, retries=1)
    model = c.meta.service_model
    checked, wrong = 0, []
    methods = {v: k for k, v in c.meta.method_to_api_mapping.items()}
    for op in status["services"][service]:
        om = model.operation_model(op)
        if om.input_shape is None or not om.input_shape.required_members:
            continue
        checked += 1
        try:
            getattr(c, methods[op])()
            wrong.append("%s: accepted an empty request" % op)
        except ClientError as e:
            code = e.response["ResponseMetadata"]["HTTPStatusCode"]
            if not 400 <= code < 500:
                wrong.append("%s: HTTP %d" % (op, code))
        except AssertionError as e:
            wrong.append("%s: %s" % (op, e))
    assert not wrong, wrong
    assert checked > 0


def test_unknown_operation_is_answered_like_aws(make_client, endpoint):
    c = make_client("lightsail", retries=1)
    c.meta.events.register("before-sign.lightsail.GetRegions",
                           lambda request, **_: request.headers.replace_header("X-Amz-Target", "Lightsail_20161128.NoSuchOperation"))
    with pytest.raises(ClientError) as e:
        c.get_regions()
    assert e.value.response["Error"]["Code"] == "UnknownOperationException"


def run_shell_prefs(idle="20", max_duration=""):
    return json.dumps({
        "schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
        "sessionType": "Standard_Stream",
        "inputs": {"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": True,
                   "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": True,
                   "cloudWatchStreamingEnabled": True, "idleSessionTimeout": idle,
                   "maxSessionDuration": max_duration, "kmsKeyId": "", "runAsEnabled": False,
                   "runAsDefaultUser": "", "shellProfile": {"windows": "", "linux": ""}}})


def test_session_manager_preferences_document(make_client):
    ssm = make_client("ssm", region="eu-west-1")
    name = "SSM-SessionManagerRunShell"
    d = ssm.create_document(Name=name, Content=run_shell_prefs(), DocumentType="Session",
                            DocumentFormat="JSON")["DocumentDescription"]
    assert (d["DocumentType"], d["SchemaVersion"], d["DocumentVersion"]) == ("Session", "1.0", "1")
    with pytest.raises(ssm.exceptions.DocumentAlreadyExists):
        ssm.create_document(Name=name, Content=run_shell_prefs(), DocumentType="Session")
    for idle, max_duration in (("0", ""), ("61", ""), ("20", "1441")):
        with pytest.raises(ssm.exceptions.InvalidDocumentContent):
            ssm.update_document(Name=name, Content=run_shell_prefs(idle, max_duration), DocumentVersion="$LATEST")
    with pytest.raises(ssm.exceptions.InvalidDocumentContent):
        ssm.create_document(Name="prefs-bad", Content=run_shell_prefs("0"), DocumentType="Session")
    v2 = ssm.update_document(Name=name, Content=run_shell_prefs("45", "1440"),
                             DocumentVersion="$LATEST")["DocumentDescription"]
    assert (v2["DocumentVersion"], v2["LatestVersion"], v2["DefaultVersion"]) == ("2", "2", "1")
    assert ssm.describe_document(Name=name)["Document"]["DocumentVersion"] == "1"
    moved = ssm.update_document_default_version(Name=name, DocumentVersion="2")["Description"]
    assert moved["DefaultVersion"] == "2"
    described = ssm.describe_document(Name=name)["Document"]
    assert (described["DocumentVersion"], described["DefaultVersion"], described["LatestVersion"]) == ("2", "2", "2")
    assert json.loads(ssm.get_document(Name=name)["Content"])["inputs"]["idleSessionTimeout"] == "45"
    pf = ssm.describe_document(Name="AWS-StartPortForwardingSession")["Document"]
    assert (pf["Owner"], pf["DocumentType"]) == ("Amazon", "Session")
    assert {p["Name"] for p in pf["Parameters"]} == {"portNumber", "localPortNumber"}


def test_document_tags(make_client):
    ssm = make_client("ssm", region="eu-west-2")
    ssm.create_document(Name="tagged-prefs", Content=run_shell_prefs(), DocumentType="Session",
                        Tags=[{"Key": "team", "Value": "ops"}])
    ssm.add_tags_to_resource(ResourceType="Document", ResourceId="tagged-prefs",
                             Tags=[{"Key": "team", "Value": "sre"}, {"Key": "env", "Value": "prod"}])
    ssm.remove_tags_from_resource(ResourceType="Document", ResourceId="tagged-prefs", TagKeys=["env"])
    assert ssm.list_tags_for_resource(ResourceType="Document", ResourceId="tagged-prefs")["TagList"] == \
        [{"Key": "team", "Value": "sre"}]
    with pytest.raises(ssm.exceptions.InvalidResourceId):
        ssm.add_tags_to_resource(ResourceType="Document", ResourceId="nope", Tags=[{"Key": "a", "Value": "b"}])


def test_state_manager_associations(make_client, endpoint):
    ssm = make_client("ssm")
    act = ssm.create_activation(IamRole="HastackSSMRole", Tags=[{"Key": "hastack:group", "Value": "web"}])
    params = {"action": ["configure"], "mode": ["onPremise"], "optionalConfigurationLocation": ["AmazonCloudWatch-web"]}
    with pytest.raises(ssm.exceptions.InvalidParameters):
        ssm.create_association(Name="AmazonCloudWatch-ManageAgent", Parameters={"mode": ["mars"]},
                               Targets=[{"Key": "tag:hastack:group", "Values": ["web"]}])
    a = ssm.create_association(Name="AmazonCloudWatch-ManageAgent", AssociationName="py-cw", Parameters=params,
                               Targets=[{"Key": "tag:hastack:group", "Values": ["web"]}])["AssociationDescription"]
    # The node registers after the association exists, and gets it.
    node = register(endpoint, act)
    infos = ssm.describe_instance_associations_status(InstanceId=node)["InstanceAssociationStatusInfos"]
    assert [i["AssociationId"] for i in infos] == [a["AssociationId"]]
    u = ssm.update_association(AssociationId=a["AssociationId"], Parameters=dict(params, action=["stop"]))
    assert u["AssociationDescription"]["AssociationVersion"] == "2"
    assert ssm.describe_association(AssociationId=a["AssociationId"])["AssociationDescription"]["Name"] == \
        "AmazonCloudWatch-ManageAgent"
    listed = ssm.list_associations(AssociationFilterList=[{"key": "AssociationName", "value": "py-cw"}])
    assert len(listed["Associations"]) == 1
    ssm.delete_association(AssociationId=a["AssociationId"])
    with pytest.raises(ssm.exceptions.AssociationDoesNotExist):
        ssm.describe_association(AssociationId=a["AssociationId"])
