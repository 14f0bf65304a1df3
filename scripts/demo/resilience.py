#!/usr/bin/env python3
"""The demo's resilience part (scripts/demo.sh): the ha-webapp stack on hastack-local losing a
host of each tier while a client keeps sending requests through the load balancer.

For each fault (the MariaDB primary's host, the Redis primary's host, one web host) it stops
the host with `hastack-local outage --name X stop`, reports what the client saw (requests
sent, requests failed) and how long until writes succeed again (the first answered request
whose write went to the new primary), then brings the host back (`outage start`) and waits
until the stack serves without errors. Then one audited Session Manager shell (`whoami`) on a
web instance, its transcript read back from CloudWatch Logs, and the app's last log lines.

The client is bounded: one request at a time, ≤ 20 per second, ≤ 90 s per fault, only to the
load balancer's address. Needs the environment `hastack-local up` prints (boto3 reads
AWS_ENDPOINT_URL) and the npm session client in emulator/tests/node (scripts/setup.sh).
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import boto3

REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Client(threading.Thread):
    """GET / through the load balancer in a loop; every answer kept with its time."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.log, self.stop = url, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    page = json.loads(r.read())
                    self.log.append((t, r.status == 200, page))
            except Exception as e:  # noqa: BLE001 - a failed request is data here
                page = {}
                body = getattr(e, "read", None)
                if body:
                    try:
                        page = json.loads(body())
                    except Exception:  # noqa: BLE001
                        pass
                self.log.append((t, False, page))
            time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))

    def since(self, t0):
        return [e for e in list(self.log) if e[0] >= t0]


def hl(args, *rest):
    subprocess.run([*args.hl.split(), *rest], check=True, capture_output=True, text=True)


def fault(args, client, what, host, recovered=None):
    """Stop `host`; wait (≤ 90 s) until `recovered(page)` holds for an answered request. Without
    `recovered` (a web host: the others answer at once), watch 15 s and report when the last
    request failed: from then on the load balancer sent nothing to the stopped host."""
    t0 = time.monotonic()
    hl(args, "outage", "--name", host, "stop")
    back = None
    while recovered and time.monotonic() - t0 < 90:
        ok = [e for e in client.since(t0) if e[1] and recovered(e[2])]
        if ok:
            back = ok[0][0] - t0
            break
        time.sleep(0.1)
    # A little longer, so that failures right after the first success count too.
    time.sleep(3 if recovered else 15)
    seen = client.since(t0)
    failed = sum(1 for e in seen if not e[1])
    if not recovered:
        back = max((e[0] - t0 for e in seen if not e[1]), default=0.0)
    hl(args, "outage", "--name", host, "start")
    return {"fault": what, "host": host, "requests": len(seen), "failed": failed,
            "writes_back_s": back}


def settle(client, secs=60):
    """Wait until 20 requests in a row were answered (the stopped host is back)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        recent = client.since(time.monotonic() - 3)
        if len(recent) >= 20 and all(e[1] for e in recent[-20:]):
            return True
        time.sleep(0.5)
    return False


def session(args, outputs):
    """One shell through Session Manager: `whoami`, then its transcript from CloudWatch Logs."""
    node = sorted(outputs["web_instances"]["value"].values(), key=lambda i: i["zone"])[0]
    ssm = boto3.client("ssm", region_name=REGION)
    started = ssm.start_session(Target=node["ssm_instance_id"])
    job = {"url": started["StreamUrl"], "token": started["TokenValue"],
           "input": "whoami\nexit\n", "until": "ssm-user"}
    node_dir = os.path.join(ROOT, "emulator/tests/node")
    out = subprocess.run(["node", "session.js"], cwd=node_dir, input=json.dumps(job) + "\n",
                         capture_output=True, text=True, timeout=60).stdout
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    matched = any(e.get("event") == "matched" for e in events)
    print(f"Session {started['SessionId']} on {node['ssm_instance_id']}: whoami answered "
          f"{'ssm-user' if matched else 'nothing'}")
    group = outputs["log_group_names"]["value"].get("sessions")
    logs = boto3.client("logs", region_name=REGION)
    deadline = time.monotonic() + 30
    while group and time.monotonic() < deadline:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        mine = [s for s in streams if s["logStreamName"].startswith(started["SessionId"])]
        if mine:
            events = logs.get_log_events(logGroupName=group,
                                         logStreamName=mine[0]["logStreamName"])["events"]
            print(f"Its transcript in CloudWatch Logs ({group} / {mine[0]['logStreamName']}):")
            for e in events:
                try:  # streamed sessions: JSON events with the terminal's lines in sessionData
                    event = json.loads(e["message"])
                    print(f"  user {event['userIdentity']['arn']} as {event['runAsUser']} "
                          f"on {event['target']['id']} at {event['eventTime']}:")
                    lines = event.get("sessionData", [])
                except (ValueError, KeyError, TypeError):
                    lines = e["message"].splitlines()
                for line in lines:
                    if line.strip():
                        print("  | " + line)
            return matched
        time.sleep(1)
    print(f"No transcript for {started['SessionId']} in {group} within 30 s")
    return False


def app_log(outputs, n=5):
    group = outputs["log_group_names"]["value"]["app"]
    logs = boto3.client("logs", region_name=REGION)
    events = logs.filter_log_events(logGroupName=group)["events"]
    print(f"Last {n} app log lines in CloudWatch Logs ({group}, a stream per web instance):")
    for e in sorted(events, key=lambda e: e["timestamp"])[-n:]:
        print(f"  {e['logStreamName']}: {e['message']}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the app through the load balancer")
    p.add_argument("--outputs", required=True, help="terraform output -json, as a file")
    p.add_argument("--hl", required=True, help="the hastack-local command with --state-dir")
    p.add_argument("--no-faults", action="store_true")
    args = p.parse_args()
    outputs = json.load(open(args.outputs))
    ok = True
    if not args.no_faults:
        client = Client(args.url)
        client.start()
        if not settle(client, 30):
            print("The stack does not serve without errors; no faults injected.")
            return 1
        db, cache = outputs["db_primary"]["value"], outputs["redis_primary"]["value"]
        redis_ip = {name: m["private_ip"] for name, m in
                    outputs["redis_members"]["value"].items()}.get(cache)
        web = sorted(outputs["web_instances"]["value"])[-1]
        rows = [
            fault(args, client, "MariaDB primary's host stopped", db,
                  lambda page: page.get("db_primary") not in (None, db)),
        ]
        ok &= settle(client)
        rows.append(fault(args, client, "Redis primary's host stopped", cache,
                          lambda page: page.get("redis_primary") not in (None, "", redis_ip)))
        ok &= settle(client)
        rows.append(fault(args, client, "one web host stopped", web))
        ok &= settle(client)
        client.stop.set()
        print()
        print(f"{'fault':<32} {'host':<26} {'requests':>8} {'failed':>6}  writes succeed again after")
        for r in rows:
            back = "never (90 s)" if r["writes_back_s"] is None else f"{r['writes_back_s']:.2f} s"
            print(f"{r['fault']:<32} {r['host']:<26} {r['requests']:>8} {r['failed']:>6}  {back}")
            ok &= r["writes_back_s"] is not None
        print("(a failed request is an error answer or no answer within 2 s; for the web host, "
              "the time of its last failed request: after it the load balancer routed around it)")
        print()
    ok &= session(args, outputs)
    print()
    app_log(outputs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
