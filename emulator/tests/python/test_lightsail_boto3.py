"""Scripted Lightsail suite through boto3: CRUD, pagination, errors."""
import time

import pytest
from botocore.exceptions import ClientError


def wait_running(c, name, timeout=5):
    deadline = time.time() + timeout
    while c.get_instance_state(instanceName=name)["state"]["name"] != "running":
        assert time.time() < deadline, "instance never ran"
        time.sleep(0.1)


def test_catalogue(make_client):
    c = make_client()
    regions = c.get_regions(includeAvailabilityZones=True)["regions"]
    zones = {z["zoneName"] for r in regions for z in r["availabilityZones"]}
    assert {"us-east-1a", "eu-west-2b"} <= zones
    assert "debian_12" in {b["blueprintId"] for b in c.get_blueprints()["blueprints"]}
    assert "nano_3_0" in {b["bundleId"] for b in c.get_bundles()["bundles"]}


def test_instance_crud_and_ports(make_client):
    c = make_client()
    ops = c.create_instances(instanceNames=["py-1"], availabilityZone="us-east-1a",
                             blueprintId="ubuntu_22_04", bundleId="nano_3_0",
                             tags=[{"key": "team", "value": "web"}])["operations"]
    assert ops[0]["status"] in ("NotStarted", "Started")
    wait_running(c, "py-1")
    inst = c.get_instance(instanceName="py-1")["instance"]
    assert inst["blueprintId"] == "ubuntu_22_04"
    assert [p["fromPort"] for p in inst["networking"]["ports"]] == [22, 80]
    c.put_instance_public_ports(instanceName="py-1", portInfos=[
        {"fromPort": 80, "toPort": 80, "protocol": "tcp", "cidrs": ["0.0.0.0/0"]},
        {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrs": ["0.0.0.0/0"]}])
    states = c.get_instance_port_states(instanceName="py-1")["portStates"]
    assert sorted(p["fromPort"] for p in states) == [80, 443]
    assert all(p["state"] == "open" for p in states)
    c.stop_instance(instanceName="py-1")
    c.delete_instance(instanceName="py-1")
    with pytest.raises(c.exceptions.NotFoundException):
        c.get_instance(instanceName="py-1")


def test_pagination_with_paginator(make_client):
    c = make_client(region="us-west-2")
    names = ["page-%02d" % i for i in range(15)]
    c.create_instances(instanceNames=names, availabilityZone="us-west-2a",
                       blueprintId="debian_12", bundleId="micro_3_0")
    pages = list(c.get_paginator("get_instances").paginate())
    assert len(pages) == 2
    assert [i["name"] for p in pages for i in p["instances"]] == names


def test_errors(make_client):
    c = make_client()
    with pytest.raises(c.exceptions.InvalidInputException):
        c.create_instances(instanceNames=["x-1"], availabilityZone="eu-west-1a",
                           blueprintId="debian_12", bundleId="nano_3_0")
    with pytest.raises(c.exceptions.NotFoundException):
        c.get_load_balancer(loadBalancerName="nope")
    with pytest.raises(ClientError) as e:
        make_client(secret="wrong", retries=1).get_regions()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_load_balancer(make_client):
    c = make_client(region="eu-west-2")
    c.create_instances(instanceNames=["lb-a"], availabilityZone="eu-west-2a",
                       blueprintId="debian_12", bundleId="nano_3_0")
    c.create_load_balancer(loadBalancerName="py-lb", instancePort=80, healthCheckPath="/health")
    c.update_load_balancer_attribute(loadBalancerName="py-lb", attributeName="HealthCheckPath",
                                     attributeValue="/ready")
    c.attach_instances_to_load_balancer(loadBalancerName="py-lb", instanceNames=["lb-a"])
    lb = c.get_load_balancer(loadBalancerName="py-lb")["loadBalancer"]
    assert lb["healthCheckPath"] == "/ready"
    assert [h["instanceName"] for h in lb["instanceHealthSummary"]] == ["lb-a"]
    c.detach_instances_from_load_balancer(loadBalancerName="py-lb", instanceNames=["lb-a"])
    ops = c.delete_load_balancer(loadBalancerName="py-lb")["operations"]
    op = c.get_operation(operationId=ops[0]["id"])["operation"]
    assert op["operationType"] == "DeleteLoadBalancer"
    assert c.get_operations()["operations"]


def test_power_ports_tags_history(make_client):
    c = make_client(region="ap-southeast-2")
    c.create_instances(instanceNames=["misc-1"], availabilityZone="ap-southeast-2a",
                       blueprintId="debian_12", bundleId="nano_3_0")
    wait_running(c, "misc-1")
    https = {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrs": ["10.0.0.0/8"]}
    c.open_instance_public_ports(instanceName="misc-1", portInfo=https)
    assert 443 in [p["fromPort"] for p in c.get_instance_port_states(instanceName="misc-1")["portStates"]]
    c.close_instance_public_ports(instanceName="misc-1", portInfo=https)
    assert 443 not in [p["fromPort"] for p in c.get_instance_port_states(instanceName="misc-1")["portStates"]]
    c.reboot_instance(instanceName="misc-1")
    wait_running(c, "misc-1")
    c.stop_instance(instanceName="misc-1")
    deadline = time.time() + 5
    while c.get_instance_state(instanceName="misc-1")["state"]["name"] != "stopped":
        assert time.time() < deadline
        time.sleep(0.1)
    c.start_instance(instanceName="misc-1")
    c.tag_resource(resourceName="misc-1", tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    c.untag_resource(resourceName="misc-1", tagKeys=["a"])
    assert c.get_instance(instanceName="misc-1")["instance"]["tags"] == [{"key": "b", "value": "2"}]
    types = [o.get("operationType") for o in c.get_operations_for_resource(resourceName="misc-1")["operations"]]
    details = [o["operationDetails"] for o in c.get_operations_for_resource(resourceName="misc-1")["operations"]]
    assert details[0] == "UntagResource" and types[-1] == "CreateInstance"
    c.create_load_balancer(loadBalancerName="misc-lb", instancePort=8080)
    assert [lb["name"] for lb in c.get_load_balancers()["loadBalancers"]] == ["misc-lb"]


@pytest.mark.parametrize("tags", [
    [{"key": "k%d" % i, "value": "v"} for i in range(51)],
    [{"key": "", "value": "v"}],
    [{"key": "k" * 129, "value": "v"}],
    [{"key": "k", "value": "v" * 257}],
    [{"key": "aws:reserved", "value": "v"}],
], ids=["51 tags", "empty key", "key 129", "value 257", "aws prefix"])
def test_lightsail_rejects_bad_tags(make_client, tags):
    ls = make_client("lightsail", region="ap-south-1")
    with pytest.raises(ls.exceptions.InvalidInputException):
        ls.create_instances(instanceNames=["tag-check"], availabilityZone="ap-south-1a",
                            blueprintId="debian_12", bundleId="nano_3_0", tags=tags)
    with pytest.raises(ls.exceptions.InvalidInputException):
        ls.create_load_balancer(loadBalancerName="tag-check", instancePort=80, tags=tags)


def test_lightsail_rejects_port_zero_and_empty_names(make_client):
    ls = make_client("lightsail", region="ap-south-1", validate=False)
    with pytest.raises(ls.exceptions.InvalidInputException):
        ls.create_load_balancer(loadBalancerName="port-zero", instancePort=0)
    ls.create_load_balancer(loadBalancerName="names-lb", instancePort=80)
    for lb, names in (("", ["web"]), ("names-lb", []), ("names-lb", [""])):
        with pytest.raises(ls.exceptions.InvalidInputException):
            ls.attach_instances_to_load_balancer(loadBalancerName=lb, instanceNames=names)
        with pytest.raises(ls.exceptions.InvalidInputException):
            ls.detach_instances_from_load_balancer(loadBalancerName=lb, instanceNames=names)
    ls.delete_load_balancer(loadBalancerName="names-lb")
