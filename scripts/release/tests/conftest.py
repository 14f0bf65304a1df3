"""Fixtures for the release tests: throwaway GPG keys, a throwaway CA, one real release
(scripts/release.sh, the same build a user downloads) and a local HTTPS server that plays the
provider registry and the network mirror."""
import errno
import functools
import http.server
import json
import os
import re
import ssl
import subprocess
import threading
import time

import pytest

from release_support import ROOT, need, run


def _require_all():
    return os.environ.get("CI") in ("true", "1") or os.environ.get("HASTACK_REQUIRE_ALL") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test (a tool missing, ...) is a failure, never a pass."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and _require_all():
        rep.outcome = "failed"
        rep.longrepr = f"cannot run here, and CI runs every test: {rep.longrepr}"


class Gpg:
    """A throwaway GNUPGHOME holding one RSA signing key."""

    def __init__(self, home, name):
        need("gpg")
        self.home = str(home)
        os.makedirs(self.home, mode=0o700, exist_ok=True)
        self("--passphrase", "", "--quick-generate-key", f"{name} <{name}@example.invalid>",
             "rsa2048", "sign", "never")
        out = self("--with-colons", "--list-secret-keys").stdout
        self.key_id = next(line.split(":")[4] for line in out.splitlines() if line.startswith("sec:"))

    def __call__(self, *args):
        return run(["gpg", "--homedir", self.home, "--batch", "--no-tty", "--pinentry-mode",
                    "loopback", *args])

    def armored_secret_key(self):
        return self("--armor", "--export-secret-keys", self.key_id).stdout

    def sign(self, path):
        os.remove(f"{path}.sig") if os.path.exists(f"{path}.sig") else None
        self("--local-user", self.key_id, "--detach-sign", "--output", f"{path}.sig", str(path))

    def close(self):
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "all"], capture_output=True)


@pytest.fixture(scope="session")
def release_key(tmp_path_factory):
    g = Gpg(tmp_path_factory.mktemp("gpg-release"), "hastack-release")
    yield g
    g.close()


@pytest.fixture(scope="session")
def other_key(tmp_path_factory):
    g = Gpg(tmp_path_factory.mktemp("gpg-other"), "someone-else")
    yield g
    g.close()


@pytest.fixture(scope="session")
def ca(tmp_path_factory):
    """A CA Terraform is told to trust (SSL_CERT_FILE), and a localhost certificate it signed."""
    need("openssl")
    d = tmp_path_factory.mktemp("ca")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", d / "ca.key", "-out", d / "ca.pem", "-days", "2",
         "-subj", "/CN=hastack release test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req", *ec, "-keyout", d / "server.key", "-out", d / "server.csr",
         "-subj", "/CN=localhost"])
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                               "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.pem", "-CAkey",
         d / "ca.key", "-CAcreateserial", "-out", d / "server.pem", "-days", "2",
         "-extfile", d / "ext.cnf"])
    return d


# The registry's hostname: `localhost`, so port 443. A hostname with a port works for a registry
# (`localhost:8443/hastack/hastack`), but Terraform's network mirror client cannot fetch
# providers of such a host (it asks for "localhost:8443/…/index.json" relative to the mirror,
# which parses as a URL of scheme "localhost"), and the mirror install must reuse the registry
# install's lock file, keyed by that hostname.
HOST = "localhost"
PORT = 443
PORT_WAIT_SECS = 180


class Server:
    """HTTPS static files from a document root that a test can swap."""

    def __init__(self, ca_dir):
        self.root = None
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(server.root), **kw)

            def log_message(self, *a):
                pass

        # Another run of these tests may hold the port for a few seconds: wait, boundedly.
        deadline = time.time() + PORT_WAIT_SECS
        while True:
            try:
                self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
                break
            except PermissionError:
                pytest.skip(f"cannot listen on 127.0.0.1:{PORT} (needs root)")
            except OSError as e:
                if e.errno != errno.EADDRINUSE or time.time() > deadline:
                    raise RuntimeError(f"127.0.0.1:{PORT} stayed taken for {PORT_WAIT_SECS} s: {e}")
                time.sleep(1)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ca_dir / "server.pem", ca_dir / "server.key")
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.host = HOST
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def server(ca):
    s = Server(ca)
    yield s
    s.close()


@functools.lru_cache(maxsize=1)
def cargo_version():
    text = (ROOT / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1]
    return re.search(r'^version = "([^"]+)"', section, re.M).group(1)


@pytest.fixture(scope="session")
def release(tmp_path_factory, release_key):
    """One release, built and signed by scripts/release.sh for the registry at `HOST`.

    The build is the real release build (cargo-zigbuild, release profile); cargo reuses it
    when it is up to date, so this costs one release build per source change."""
    out = tmp_path_factory.mktemp("dist") / cargo_version()
    env = dict(os.environ, HASTACK_RELEASE_GPG_KEY=release_key.armored_secret_key())
    env.pop("HASTACK_RELEASE_GPG_KEY_ID", None)
    env.setdefault("HASTACK_RELEASE_TARGETS", "linux_amd64")
    r = run([str(ROOT / "scripts" / "release.sh"), "--out", str(out), "--host", HOST],
            timeout=3600, env=env)
    print(r.stdout)
    print(r.stderr[-4000:])
    hashes = json.loads((out / "hashes.json").read_text())
    lock = set(re.findall(r'"((?:h1|zh):[^"]+)"', (out / "lock.hcl").read_text()))
    return {"dir": out, "version": cargo_version(), "hashes": hashes["platforms"],
            "sums_zh": set(hashes["sha256sums_zh"]), "lock": lock,
            "stdout": r.stdout, "key_id": release_key.key_id}
