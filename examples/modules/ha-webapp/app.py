#!/usr/bin/python3
"""The ha-webapp module's demo app: a small HTTP service on every web instance.

Each request to / is written to MariaDB through the data-tier sidecar's writer port, the table
is counted through its reader port (the replicas), a counter is incremented in Redis through
the sidecar, and a line is appended to the app log that the log pipeline ships to CloudWatch
Logs. The page shows the instance, its zone, the DB primary that took the write and the Redis
primary that counted it. /health answers 200 while the process runs (the load balancer's
health check), whatever the data tier is doing: a database failover must not take every web
instance out of the load balancer.

Python's standard library only; the database and cache are reached with the mariadb and
redis-cli clients. Passwords are read from SSM Parameter Store with the node's own
credentials (never in user data or command lines) into files readable by root only.
Settings come from /etc/hastack-app.env (written by the user data).
"""
import datetime
import http.server
import json
import os
import socket
import subprocess
import threading

ENV = dict(
    line.strip().split("=", 1)
    for line in open("/etc/hastack-app.env")
    if "=" in line and not line.startswith("#")
)
RUN = "/run/hastack-app"
LOG = "/var/log/hastack-app/access.log"
HOST = socket.gethostname()
LOCK = threading.Lock()


def aws(*args):
    return subprocess.run(
        ["aws", "--region", ENV["REGION"], "--output", "text", *args],
        capture_output=True, text=True, timeout=20, check=True,
    ).stdout.strip()


def secret(name, path, render=lambda value: value):
    """Read a SecureString into a 0600 file at `path` (as `render` writes it) unless the file is
    there already; a caller whose login failed removes the file so the next call reads again."""
    if not os.path.exists(path):
        value = aws("ssm", "get-parameter", "--name", name, "--with-decryption",
                    "--query", "Parameter.Value")
        fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(render(value))
        os.replace(path + ".new", path)
    return path


def zone():
    try:
        return aws("lightsail", "get-instance", "--instance-name", HOST,
                   "--query", "instance.location.availabilityZone")
    except Exception:  # the role may not allow lightsail:GetInstance
        return "unknown"


def db_options():
    """The mariadb client's option file with the app user's password (written once)."""
    return secret(ENV["DB_PASSWORD_PARAMETER"], RUN + "/my.cnf", lambda pw: (
        "[client]\nuser=%s\npassword=%s\nprotocol=tcp\nhost=127.0.0.1\n" % (ENV["DB_USER"], pw)))


def sql(port, statement):
    for attempt in (0, 1):
        out = subprocess.run(
            ["mariadb", "--defaults-extra-file=" + db_options(), "-P", port, "-N", "-B",
             "--connect-timeout=3", ENV["DB_NAME"], "-e", statement],
            capture_output=True, text=True, timeout=15,
        )
        if out.returncode == 0:
            return out.stdout.split()
        if attempt == 0 and "Access denied" in out.stderr:
            os.unlink(RUN + "/my.cnf")  # a new password: read it again
            continue
        raise RuntimeError("mariadb: " + out.stderr.strip()[:200])


def redis(*args):
    for attempt in (0, 1):
        tok = secret(ENV["REDIS_TOKEN_PARAMETER"], RUN + "/redis-token")
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", ENV["REDIS_PORT"], "--no-auth-warning", *args],
            capture_output=True, text=True, timeout=10,
            env={**os.environ, "REDISCLI_AUTH": open(tok).read()},
        )
        text = out.stdout.strip()
        if out.returncode == 0 and not text.startswith(("ERR", "WRONGPASS", "NOAUTH", "READONLY")):
            return text
        if attempt == 0 and ("WRONGPASS" in text or "NOAUTH" in text):
            os.unlink(tok)
            continue
        raise RuntimeError("redis: " + (text or out.stderr.strip())[:200])


ZONE = zone()


class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            return self.answer(200, {"instance": HOST, "zone": ZONE})
        if self.path != "/":
            return self.answer(404, {"error": "not found"})
        page = {"instance": HOST, "zone": ZONE, "version": ENV.get("APP_VERSION", "")}
        status = 200
        try:
            # One statement batch on the writer: the write and who took it (the primary).
            page["db_primary"], page["request_id"] = sql(
                ENV["DB_WRITER_PORT"],
                "CREATE TABLE IF NOT EXISTS requests (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                " instance VARCHAR(64) NOT NULL, at TIMESTAMP(6) NOT NULL"
                " DEFAULT CURRENT_TIMESTAMP(6));"
                " INSERT INTO requests (instance) VALUES ('%s');"
                " SELECT @@hostname, LAST_INSERT_ID();" % HOST)
            reader = sql(ENV["DB_READER_PORT"], "SELECT @@hostname, COUNT(*) FROM requests;")
            page["db_reader"], page["db_rows_on_reader"] = reader[0], int(reader[1])
        except Exception as e:  # noqa: BLE001 - shown to the client and logged
            status, page["db_error"] = 503, str(e)
        try:
            page["redis_hits"] = int(redis("INCR", "hits"))
            # CLIENT INFO's laddr is the server's own address: the primary the sidecar chose.
            info = redis("CLIENT", "INFO")
            page["redis_primary"] = next(
                (f.split("=", 1)[1].rsplit(":", 1)[0] for f in info.split() if f.startswith("laddr=")), "")
        except Exception as e:  # noqa: BLE001
            status, page["redis_error"] = 503, str(e)
        self.answer(status, page)

    def answer(self, status, page):
        body = (json.dumps(page, sort_keys=True) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code="-", size="-"):
        if self.path != "/health" or code != 200:  # the load balancer's checks are not news
            super().log_request(code, size)

    def log_message(self, fmt, *args):
        line = "%s %s %s %s\n" % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            self.client_address[0], HOST, fmt % args)
        with LOCK, open(LOG, "a") as f:
            f.write(line)


if __name__ == "__main__":
    os.makedirs(RUN, mode=0o700, exist_ok=True)
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    open(LOG, "a").close()  # there from the start, for the log agent to follow
    http.server.ThreadingHTTPServer(("0.0.0.0", int(ENV.get("PORT", "80"))), App).serve_forever()
