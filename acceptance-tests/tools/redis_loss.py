#!/usr/bin/env python3
"""Jepsen-style clients for hastack_redis_replica_group loss tests (standard library only).

Run inside an app instance's network namespace: writers add unique ids to a set through the
data-tier sidecar (127.0.0.1:6379) and log every operation as ok / fail / info (outcome
unknown); a sampler asks every member for its role every 100 ms. Two write modes run side by
side: `plain` (acknowledged by the primary) and `wait` (acknowledged only when `WAIT <replicas>`
says every replica has it). Prints one JSON document on stdout. The auth token comes from the
REDISCLI_AUTH environment variable, never from the command line.
"""
import argparse
import json
import os
import socket
import threading
import time


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, host, port, token, timeout):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.s.settimeout(timeout)
        self.f = self.s.makefile("rb")
        if token:
            r = self.call("AUTH", token)
            if r != "OK":
                raise OSError(f"AUTH: {r}")
        # Which member serves this connection (through the sidecar, the server's own address).
        info = self.call("CLIENT", "INFO") if port == 6379 and host == "127.0.0.1" else ""
        self.server = next((f[6:].rsplit(":", 1)[0] for f in str(info).split() if f.startswith("laddr=")), host)

    def call(self, *args):
        self.s.sendall(command(*args))
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if not line:
            raise OSError("connection closed")
        kind, rest = line[:1], line[1:].rstrip(b"\r\n").decode()
        if kind == b"+":
            return rest
        if kind == b"-":
            return RuntimeError(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2].decode()
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise OSError(f"bad reply {line!r}")

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def writer(mode, w, args, token, stop, log):
    conn = None
    i = 0
    while not stop.is_set():
        if conn is None:
            try:
                conn = Conn("127.0.0.1", 6379, token, 1.0)
            except OSError as e:
                # "auth" when the token was refused (a rotation must never cause that).
                log.append(("fail", None, time.time(), "auth" if str(e).startswith("AUTH") else ""))
                conn = None
                time.sleep(0.05)
                continue
        i += 1
        ident = f"{args.prefix}{mode}-{w}-{i}"
        try:
            r = conn.call("SADD", f"{args.prefix}{mode}", ident)
            if isinstance(r, RuntimeError):
                # Refused (NOREPLICAS, READONLY, …): not written.
                log.append(("fail", ident, time.time(), conn.server))
                conn.close()
                conn = None
                time.sleep(0.05)
                continue
            if mode == "wait":
                n = conn.call("WAIT", args.replicas, 1000)
                if not (isinstance(n, int) and n >= args.replicas):
                    log.append(("info", ident, time.time(), conn.server))
                    continue
            log.append(("ok", ident, time.time(), conn.server))
        except (OSError, ValueError):
            log.append(("info", ident, time.time(), conn.server))
            conn.close()
            conn = None
        time.sleep(args.pause)
    if conn:
        conn.close()


def sampler(args, token, stop, samples):
    """Every 100 ms: which members say they are a primary able to take writes."""
    while not stop.is_set():
        t = time.time()
        writable = []
        for host in args.members:
            try:
                c = Conn(host, 6379, token, 0.2)
                info = c.call("INFO", "replication")
                c.close()
            except OSError:
                continue
            if not isinstance(info, str):
                continue
            fields = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
            good = int(fields.get("min_slaves_good_slaves", fields.get("connected_slaves", "0")))
            if fields.get("role") == "master" and good >= args.min_replicas:
                writable.append(host)
        samples.append((t, writable))
        time.sleep(max(0.0, 0.1 - (time.time() - t)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--writers", type=int, default=3)
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--min-replicas", type=int, default=1)
    p.add_argument("--pause", type=float, default=0.01)
    p.add_argument("--prefix", default="")
    p.add_argument("--members", nargs="+", required=True)
    args = p.parse_args()
    token = os.environ.get("REDISCLI_AUTH", "")
    stop = threading.Event()
    logs = {"plain": [], "wait": []}
    samples = []
    threads = [threading.Thread(target=sampler, args=(args, token, stop, samples))]
    for mode in logs:
        for w in range(args.writers):
            threads.append(threading.Thread(target=writer, args=(mode, w, args, token, stop, logs[mode])))
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    out = {"samples": samples}
    for mode, log in logs.items():
        out[mode] = {
            "ok": [[i, t, srv] for s, i, t, srv in log if s == "ok"],
            "info": [i for s, i, _, _ in log if s == "info"],
            "fail": sum(1 for s, _, _, _ in log if s == "fail"),
            "auth_refused": sum(1 for s, i, _, why in log if s == "fail" and i is None and why == "auth"),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
