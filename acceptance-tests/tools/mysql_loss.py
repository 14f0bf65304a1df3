#!/usr/bin/python3
"""Jepsen-style clients for hastack_mysql_replica_set loss tests (Debian's python3-pymysql).

Run inside an app instance's network namespace: writers insert unique ids through the data-tier
sidecar (127.0.0.1:3306) with autocommit and log every insert as ok (the commit returned),
fail (refused before it could commit: connection refused, read-only) or info (outcome unknown:
the connection broke while the commit was in flight). A sampler asks every member every 100 ms
whether it accepts writes (@@read_only = 0). Prints one JSON document. The password comes from
MYSQL_PWD, never from the command line.
"""
import argparse
import json
import os
import threading
import time

import pymysql

READ_ONLY = (1290, 1836)  # ER_OPTION_PREVENTS_STATEMENT, ER_READ_ONLY_MODE


def connect(host, timeout):
    return pymysql.connect(host=host, port=3306, user=os.environ.get("MYSQL_USER", "app"),
                           password=os.environ["MYSQL_PWD"], database="shop", autocommit=True,
                           connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout)


def writer(w, args, stop, log):
    conn = None
    i = 0
    while not stop.is_set():
        if conn is None:
            try:
                conn = connect("127.0.0.1", 2)
                with conn.cursor() as c:
                    c.execute("SELECT @@hostname")
                    server = c.fetchone()[0]
            except pymysql.MySQLError:
                conn = None
                time.sleep(0.05)
                continue
        i += 1
        ident = f"{args.prefix}{w}-{i}"
        try:
            with conn.cursor() as c:
                c.execute("INSERT INTO ids (id) VALUES (%s)", (ident,))
            log.append(("ok", ident, time.time(), server))
        except pymysql.err.OperationalError as e:
            code = e.args[0] if e.args else 0
            kind = "fail" if code in READ_ONLY else "info"
            log.append((kind, ident, time.time(), server))
            try:
                conn.close()
            except Exception:
                pass
            conn = None
            time.sleep(0.05)
        except pymysql.MySQLError as e:
            code = e.args[0] if e.args else 0
            log.append(("fail" if code in READ_ONLY else "info", ident, time.time(), server))
            conn = None
            time.sleep(0.05)
        time.sleep(args.pause)


def sampler(args, stop, samples):
    conns = {}
    while not stop.is_set():
        t = time.time()
        writable = []
        for host in args.members:
            try:
                if host not in conns:
                    conns[host] = connect(host, 0.3)
                with conns[host].cursor() as c:
                    c.execute("SELECT @@global.read_only")
                    if c.fetchone()[0] == 0:
                        writable.append(host)
            except Exception:
                conns.pop(host, None)
        samples.append((t, writable))
        time.sleep(max(0.0, 0.1 - (time.time() - t)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--pause", type=float, default=0.01)
    p.add_argument("--prefix", default="")
    p.add_argument("--members", nargs="+", required=True)
    args = p.parse_args()
    stop = threading.Event()
    log, samples = [], []
    threads = [threading.Thread(target=sampler, args=(args, stop, samples))]
    threads += [threading.Thread(target=writer, args=(w, args, stop, log)) for w in range(args.writers)]
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({
        "samples": samples,
        "ok": [[i, t, s] for k, i, t, s in log if k == "ok"],
        "info": [i for k, i, _, _ in log if k == "info"],
        "fail": sum(1 for k, *_ in log if k == "fail"),
    }))


if __name__ == "__main__":
    main()
