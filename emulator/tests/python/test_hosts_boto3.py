"""hastack-local with real hosts, driven by boto3 as a user would: `hastack-local up`, a web tier
behind a load balancer, a SecureString read on a host with the AWS CLI and the node's
credentials, then `hastack-local down` leaves nothing behind. Needs root (namespaces); skips
otherwise."""
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import boto3
import botocore.config
import pytest

import conftest

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"),
                                reason="hosts need root and iproute2")


def cli(state_dir, *args, check=True):
    r = subprocess.run([conftest.binary(), "--state-dir", state_dir, *args], capture_output=True, text=True, timeout=150)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def wait_for(what, secs, f):
    deadline = time.time() + secs
    while True:
        v = f()
        if v:
            return v
        assert time.time() < deadline, "timed out waiting for %s" % what
        time.sleep(0.2)


def leftovers():
    """Namespaces, links, mounts, processes or hosts-file lines hastack-local could leave."""
    found = []
    out = lambda *a: subprocess.run(a, capture_output=True, text=True).stdout
    found += ["netns " + l for l in out("ip", "netns", "list").splitlines() if l.startswith("hstk-")]
    found += ["link " + l for l in out("ip", "-o", "link", "show").splitlines() if " hstk" in l]
    found += ["addr " + l for l in out("ip", "-o", "addr", "show").splitlines() if " 198.18." in l or " 198.19." in l]
    found += ["mount " + l for l in open("/proc/self/mountinfo") if "hastack-" in l]
    found += ["hosts-file " + l for l in open("/etc/hosts") if "hastack-local" in l or "elb.amazonaws.com" in l]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if "hastack-etc" in open("/proc/%s/mountinfo" % pid).read() and ") Z " not in open("/proc/%s/stat" % pid).read():
                found.append("process %s" % pid)
        except OSError:
            pass
    return found


def run_on(ssm, node, commands, secs=60):
    cmd = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node],
                           Parameters={"commands": commands})["Command"]
    inv = wait_for("command on %s" % node, secs, lambda: (lambda i: i if i["Status"] not in ("Pending", "InProgress") else None)(
        ssm.get_command_invocation(CommandId=cmd["CommandId"], InstanceId=node)))
    return cmd, inv


def wait_for_bridge(secs=120):
    """One hastack-local with hosts per machine: wait (bounded) until none holds the bridge."""
    path = os.path.join(tempfile.gettempdir(), "hastack-local-hosts.lock")
    deadline = time.time() + secs
    with open(path, "a") as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return True
            except OSError:
                if time.time() > deadline:
                    return False
                time.sleep(0.5)


def test_web_tier_dns_and_secrets_on_real_hosts():
    port = conftest.free_port()
    if not wait_for_bridge():
        pytest.skip("another hastack-local with hosts held the bridge for 2 minutes")
    state = tempfile.mkdtemp(prefix="hastack-local-py-")
    up = cli(state, "up", "--port", str(port), check=False)
    assert up.returncode == 0, up.stderr
    try:
        endpoint = "http://127.0.0.1:%d" % port
        status = json.load(urllib.request.urlopen(endpoint + "/_hastack/status", timeout=5))
        if not status["hosts"]["available"]:
            pytest.skip(status["hosts"]["reason"])

        def client(service):
            c = boto3.client(service, region_name="us-east-1", endpoint_url=endpoint,
                             aws_access_key_id="AKIAHASTACKLOCAL0001", aws_secret_access_key="hastack-local-secret",
                             config=botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}))
            c.meta.events.register("after-call.*.*", conftest.fidelity_hook)
            return c
        ls, ssm = client("lightsail"), client("ssm")
        secret = "pw-" + secrets.token_hex(12)
        ssm.put_parameter(Name="/hastack/db/password", Value=secret, Type="SecureString")
        act = ssm.create_activation(IamRole="HastackSSMRole", RegistrationLimit=4)
        user_data = "\n".join([
            "#!/bin/bash", "set -euo pipefail", "mkdir -p /var/www/html", "hostname > /var/www/html/index.html",
            "systemctl enable --now nginx",
            "amazon-ssm-agent -register -code %s -id %s -region us-east-1" % (act["ActivationCode"], act["ActivationId"]),
            "systemctl enable --now amazon-ssm-agent", ""])
        # Three web hosts, and a client host that is not behind the load balancer.
        for name, zone in [("web-1", "us-east-1a"), ("web-2", "us-east-1b"), ("web-3", "us-east-1c"),
                           ("client-1", "us-east-1a")]:
            ls.create_instances(instanceNames=[name], availabilityZone=zone, blueprintId="debian_12",
                                bundleId="nano_3_0", userData=user_data)
        nodes = wait_for("4 managed nodes", 60, lambda: (lambda l: l if len(l) == 4 else None)(
            ssm.describe_instance_information()["InstanceInformationList"]))
        by_name = {n["ComputerName"]: n["InstanceId"] for n in nodes}

        # The host reads the SecureString with the AWS CLI and the credentials its agent shares.
        cmd, inv = run_on(ssm, by_name["web-1"], [
            "aws ssm get-parameter --name /hastack/db/password --with-decryption --query Parameter.Value --output text | tr -d '\\n' | sha256sum | cut -d' ' -f1",
            "aws sts get-caller-identity --query Arn --output text",
        ])
        assert inv["Status"] == "Success", inv["StandardErrorContent"]
        digest, arn = inv["StandardOutputContent"].split()
        assert digest == hashlib.sha256(secret.encode()).hexdigest()
        assert arn.startswith("arn:aws:sts::123456789012:assumed-role/HastackSSMRole/mi-"), arn
        listed = json.dumps(ssm.list_commands(CommandId=cmd["CommandId"])["Commands"], default=str)
        assert secret not in listed, "the secret travelled in a Run Command parameter"

        # The load balancer's DNS name answers on port 80, from the machine and from a host.
        ls.create_load_balancer(loadBalancerName="front", instancePort=80, healthCheckPath="/")
        ls.attach_instances_to_load_balancer(loadBalancerName="front", instanceNames=["web-1", "web-2", "web-3"])
        wait_for("healthy instances", 30, lambda: all(
            h["instanceHealth"] == "healthy"
            for h in ls.get_load_balancer(loadBalancerName="front")["loadBalancer"]["instanceHealthSummary"]))
        dns = ls.get_load_balancer(loadBalancerName="front")["loadBalancer"]["dnsName"]
        listed = json.loads(cli(state, "load-balancers").stdout)
        assert listed[0]["dns_name"] == dns and listed[0]["address"], listed
        assert socket.gethostbyname(dns) == listed[0]["address"]
        seen = {urllib.request.urlopen("http://%s/" % dns, timeout=5).read().decode().strip() for _ in range(30)}
        assert seen == {"web-1", "web-2", "web-3"}, seen
        curl = subprocess.run(["curl", "-sS", "--max-time", "5", "http://%s/" % dns], capture_output=True, text=True)
        assert curl.stdout.strip() in seen, curl.stderr
        _, inv = run_on(ssm, by_name["client-1"], [
            "for i in $(seq 30); do curl -sS --max-time 5 http://%s/; echo; done | sort -u" % dns])
        assert inv["Status"] == "Success", inv["StandardErrorContent"]
        assert inv["StandardOutputContent"].split() == ["web-1", "web-2", "web-3"], inv
        # Gone with the load balancer.
        ls.delete_load_balancer(loadBalancerName="front")
        with pytest.raises(socket.gaierror):
            socket.gethostbyname(dns)
        _, inv = run_on(ssm, by_name["web-1"], ["getent hosts %s || echo unresolved" % dns])
        assert inv["StandardOutputContent"].strip() == "unresolved", inv
        ls.create_load_balancer(loadBalancerName="front2", instancePort=80)
        assert dns not in open("/etc/hosts").read()
        dns2 = ls.get_load_balancer(loadBalancerName="front2")["loadBalancer"]["dnsName"]
        assert dns2 in open("/etc/hosts").read()

        # Out-of-band deletion goes through the backend: the listener, its name and the host go.
        cli(state, "disappear", "--kind", "load_balancer", "--name", "front2")
        assert json.loads(cli(state, "load-balancers").stdout) == []
        assert dns2 not in open("/etc/hosts").read()
        cli(state, "disappear", "--kind", "instance", "--name", "web-3")
        assert sorted(h["name"] for h in json.loads(cli(state, "hosts").stdout)) == ["client-1", "web-1", "web-2"]
    finally:
        cli(state, "down", check=False)
        shutil.rmtree(state, ignore_errors=True)  # its pid, port and log files
    # Links and mounts go at once; processes get a moment to be reaped.
    deadline = time.time() + 5
    while leftovers() and time.time() < deadline:
        time.sleep(0.1)
    assert leftovers() == [], leftovers()
