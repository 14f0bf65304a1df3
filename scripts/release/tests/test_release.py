"""Terraform itself accepts a release made by scripts/release.sh: from a provider registry
(signature verified, both hash kinds locked), from filesystem mirrors and a network mirror with
the registry's lock file; a tampered zip, a tampered SHA256SUMS and a signature by another key are
each refused. And the Linux binary runs on glibc 2.17."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from release_support import ROOT, run, terraforms

TERRAFORMS = terraforms()
MAX_GLIBC = (2, 17)


def tf_ids():
    return [run([t, "version"]).stdout.split()[1] for t in TERRAFORMS]


def workdir(tmp_path, host, cli_config, lock=None):
    d = tmp_path / "work"
    d.mkdir()
    (d / "main.tf").write_text(f"""terraform {{
  required_providers {{
    hastack = {{ source = "{host}/hastack/hastack" }}
  }}
}}
provider "hastack" {{}}
""")
    if lock is not None:
        (d / ".terraform.lock.hcl").write_text(lock)
    (tmp_path / "cli.tfrc").write_text(cli_config)
    return d


def init(terraform, d, ca, tmp_path, timeout=180):
    env = dict(os.environ, SSL_CERT_FILE=str(ca / "ca.pem"), TF_CLI_CONFIG_FILE=str(tmp_path / "cli.tfrc"),
               CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_REGISTRY_DISCOVERY_RETRY="1")
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    r = run([terraform, f"-chdir={d}", "init", "-input=false", "-no-color"], check=False,
            timeout=timeout, env=env)
    r.err = " ".join(r.stderr.split())  # Terraform wraps its messages at 78 columns
    return r


def lock_hashes(d):
    text = (d / ".terraform.lock.hcl").read_text()
    return set(re.findall(r'"((?:h1|zh):[^"]+)"', text))


def registry_copy(release, tmp_path):
    """A registry document root of one's own, to tamper with."""
    root = tmp_path / "registry"
    shutil.copytree(release["dir"] / "registry", root, copy_function=shutil.copy2)
    return root


def downloads(root, release):
    return root / "downloads" / "hastack" / "hastack" / release["version"]


def names(release):
    v = release["version"]
    p = f"terraform-provider-hastack_{v}"
    return f"{p}_linux_amd64.zip", f"{p}_SHA256SUMS", f"terraform-provider-hastack_v{v}"


def evil_zip(path, member):
    """A valid provider zip with another program inside: what an attacker would serve."""
    os.remove(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(member, b"#!/bin/sh\necho owned\n")


def set_download_shasum(root, release, digest):
    f = root / "v1" / "providers" / "hastack" / "hastack" / release["version"] / "download" / "linux" / "amd64"
    doc = json.loads(f.read_text())
    doc["shasum"] = digest
    f.write_text(json.dumps(doc))


# --- the binary -----------------------------------------------------------------------------

def glibc_needs(binary):
    """(dynamic libraries, GLIBC_ symbol versions as tuples) of an ELF binary."""
    dynamic = run(["readelf", "-d", "-W", binary]).stdout
    needed = re.findall(r"Shared library: \[([^\]]+)\]", dynamic)
    symbols = run(["readelf", "--dyn-syms", "-W", binary]).stdout
    versions = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"@GLIBC_([0-9.]+)", symbols)}
    return needed, versions


def test_linux_binary_needs_no_glibc_newer_than_2_17(release):
    """The linux_amd64 binary in the zip (what HCP Terraform runs) asks for no GLIBC_ symbol
    version above 2.17; if it is static, it has no dynamic libc at all."""
    zip_name, _, member = names(release)
    with zipfile.ZipFile(release["dir"] / zip_name) as z:
        assert z.namelist() == [member], "the zip must hold the binary alone (flat)"
        info = z.getinfo(member)
        assert (info.external_attr >> 16) & 0o111, "the binary must be executable when unpacked"
        binary = release["dir"] / "bin"
        binary.write_bytes(z.read(member))
    needed, versions = glibc_needs(binary)
    if not needed:
        assert not versions, "a static binary with glibc symbol versions"
        return
    assert any(n.startswith("libc.so") for n in needed), needed
    assert versions, "no GLIBC_ symbol versions found: the check reads nothing"
    too_new = sorted(v for v in versions if v > MAX_GLIBC)
    assert not too_new, f"needs glibc {['.'.join(map(str, v)) for v in too_new]}, newer than 2.17"
    print(f"binary {binary.stat().st_size} bytes; needs {needed}; newest GLIBC_"
          f"{'.'.join(map(str, max(versions)))}")


def test_glibc_check_catches_a_binary_linked_here():
    """The same reading flags the development build, linked against this machine's newer glibc
    (so the check above can fail)."""
    host = os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    dev = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "terraform-provider-hastack"
    if tuple(int(x) for x in host.split(".")) <= MAX_GLIBC or not dev.exists():
        pytest.skip(f"needs a glibc newer than 2.17 here (have {host}) and {dev} (cargo build)")
    _, versions = glibc_needs(dev)
    assert any(v > MAX_GLIBC for v in versions), f"{dev} on glibc {host}: {sorted(versions)}"


def test_release_reports_what_it_built(release):
    out = release["stdout"]
    assert re.search(r"^built: linux_amd64", out, re.M), out
    assert re.search(r"glibc symbol versions needed: .*\(newest: 2\.(1[0-7]|[0-9])\)", out), out
    assert re.search(r"linux_amd64 binary: \d+ bytes", out), out


def test_release_declares_protocol_6(release):
    """Without a manifest Terraform assumes protocol 5: the manifest says 6.0 and is covered by
    the signed SHA256SUMS, and the registry's versions and download answers say 6.0 too."""
    v, d = release["version"], release["dir"]
    manifest = d / f"terraform-provider-hastack_{v}_manifest.json"
    assert json.loads(manifest.read_text()) == {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
    _, sums_name, _ = names(release)
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert f"{digest}  {manifest.name}\n" in (d / sums_name).read_text()
    api = d / "registry" / "v1" / "providers" / "hastack" / "hastack"
    versions = json.loads((api / "versions").read_text())["versions"]
    assert [x["protocols"] for x in versions if x["version"] == v] == [["6.0"]], versions
    download = json.loads((api / v / "download" / "linux" / "amd64").read_text())
    assert download["protocols"] == ["6.0"], download


def test_platform_without_std_is_reported_not_faked(release, tmp_path):
    """A platform whose Rust standard library is missing is listed as not built, and no zip of it
    exists (the build is already up to date: this only packs again, unsigned)."""
    sysroot = run(["rustc", "--print", "sysroot"], cwd=ROOT).stdout.strip()
    missing = next((p for p, t in [("darwin_arm64", "aarch64-apple-darwin"),
                                   ("freebsd_amd64", "x86_64-unknown-freebsd"),
                                   ("windows_amd64", "x86_64-pc-windows-gnu")]
                    if not os.path.isdir(f"{sysroot}/lib/rustlib/{t}/lib")), None)
    if missing is None:
        pytest.skip("every candidate platform's standard library is installed")
    env = dict(os.environ, HASTACK_RELEASE_TARGETS=f"linux_amd64 {missing}")
    for k in ("HASTACK_RELEASE_GPG_KEY", "HASTACK_RELEASE_GPG_KEY_ID"):
        env.pop(k, None)
    r = run([str(ROOT / "scripts" / "release.sh"), "--unsigned", "--out", str(tmp_path / "d")],
            timeout=3600, env=env)
    assert f"not built: {missing}: Rust standard library" in r.stdout, r.stdout
    assert not list((tmp_path / "d").glob(f"*_{missing}.zip"))
    assert "UNSIGNED" in r.stdout


def test_release_refuses_bad_input(tmp_path):
    """Wrong version, no key, ECC key: each refused before building, with a clear message."""
    script = str(ROOT / "scripts" / "release.sh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HASTACK_RELEASE_GPG")}
    cases = [
        ("version_mismatch", ["9.9.9", "--unsigned"], env, "differs from Cargo.toml"),
        ("not_semver", ["1.2", "--unsigned"], env, "is not MAJOR.MINOR.PATCH"),
        ("no_key", [], env, "no signing key"),
        ("garbage_key", [], dict(env, HASTACK_RELEASE_GPG_KEY="not a key"), "not an armored secret key"),
    ]
    for name, args, e, want in cases:
        r = run([script, "--out", str(tmp_path / name), *args], check=False, env=e, timeout=60)
        assert r.returncode != 0 and want in r.stderr, f"{name}: {r.returncode} {r.stderr}"


def test_key_with_passphrase(release, tmp_path):
    """A protected key signs with HASTACK_RELEASE_GPG_PASSPHRASE, and without it the release
    stops saying what is missing (the build is up to date: this packs only)."""
    home = tmp_path / "g"
    home.mkdir(mode=0o700)
    g = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", "s3cret"]
    run(g + ["--quick-generate-key", "pp <pp@example.invalid>", "rsa2048", "sign", "never"])
    key = run(g + ["--armor", "--export-secret-keys", "pp@example.invalid"]).stdout
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HASTACK_RELEASE_GPG")}
    env.update(HASTACK_RELEASE_GPG_KEY=key, HASTACK_RELEASE_TARGETS="linux_amd64")
    script = str(ROOT / "scripts" / "release.sh")
    r = run([script, "--out", str(tmp_path / "without")], check=False, env=env, timeout=3600)
    assert r.returncode != 0 and "set HASTACK_RELEASE_GPG_PASSPHRASE" in r.stderr, r.stderr
    r = run([script, "--out", str(tmp_path / "with")], env=dict(env, HASTACK_RELEASE_GPG_PASSPHRASE="s3cret"),
            timeout=3600)
    assert "signed by GPG key" in r.stdout, r.stdout


def test_ecc_signing_key_is_refused(tmp_path):
    """Registries accept only RSA/DSA keys: package.py says so instead of making a release
    that no registry would take."""
    home = tmp_path / "g"
    home.mkdir(mode=0o700)
    g = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    run(g + ["--quick-generate-key", "ecc <ecc@example.invalid>", "ed25519", "sign", "never"])
    binary = tmp_path / "b"
    binary.write_bytes(b"\x7fELF")
    r = run(["python3", str(ROOT / "scripts" / "release" / "package.py"), "--version", "1.0.0",
             "--out", str(tmp_path / "o"), "--binary", f"linux_amd64={binary}",
             "--gpg-key-id", "ecc@example.invalid", "--gnupghome", str(home)], check=False)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
    assert r.returncode == 1 and "accept only RSA or DSA" in r.stderr, r.stderr


# --- Terraform installs it ------------------------------------------------------------------

@pytest.fixture(params=TERRAFORMS, ids=tf_ids())
def terraform(request):
    return request.param


@pytest.fixture
def registry_install(terraform, release, server, ca, tmp_path):
    server.root = release["dir"] / "registry"
    d = workdir(tmp_path, server.host, "")
    r = init(terraform, d, ca, tmp_path)
    return d, r


def test_registry_install_verifies_signature_and_locks_both_hashes(registry_install, release, server,
                                                                  terraform, ca, tmp_path):
    d, r = registry_install
    assert r.returncode == 0, r.stdout + r.stderr
    v = release["version"]
    assert f"Installed {server.host}/hastack/hastack v{v} (self-signed, key ID {release['key_id']})" \
        in r.stdout, r.stdout
    got = lock_hashes(d)
    # h1: of what it installed, zh: of every line of the signed SHA256SUMS (manifest included).
    want = {release["hashes"]["linux_amd64"]["h1"]} | release["sums_zh"]
    assert {h["zh"] for h in release["hashes"].values()} <= release["sums_zh"]
    assert got == want, f"lock file hashes {got}, release says {want}"
    assert got == release["lock"], "the release's lock.hcl differs from what terraform wrote"
    # The installed binary runs under Terraform (the zig-built one, on this machine's glibc).
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(tmp_path / "cli.tfrc"), CHECKPOINT_DISABLE="1")
    schema = json.loads(run([terraform, f"-chdir={d}", "providers", "schema", "-json"], env=env).stdout)
    resources = schema["provider_schemas"][f"{server.host}/hastack/hastack"]["resource_schemas"]
    assert "hastack_lightsail_load_balancer" in resources


@pytest.mark.parametrize("layout", ["packed", "unpacked"])
def test_filesystem_mirror_install_matches_registry_lock(registry_install, release, terraform, ca,
                                                         tmp_path, layout):
    d, r = registry_install
    assert r.returncode == 0, r.stdout + r.stderr
    lock = (d / ".terraform.lock.hcl").read_text()
    mirror = release["dir"] / "mirror" / layout
    sub = tmp_path / f"fs-{layout}"
    sub.mkdir()
    d2 = workdir(sub, _host_of(lock),
                 f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n',
                 lock=lock)
    r2 = init(terraform, d2, ca, sub)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert "Installed" in r2.stdout and "(unauthenticated)" in r2.stdout, r2.stdout
    assert lock_hashes(d2) == lock_hashes(d), "the mirror install changed the lock file"


def test_network_mirror_install_matches_registry_lock(registry_install, release, server, terraform, ca,
                                                      tmp_path):
    d, r = registry_install
    assert r.returncode == 0, r.stdout + r.stderr
    lock = (d / ".terraform.lock.hcl").read_text()
    server.root = release["dir"]
    sub = tmp_path / "nm"
    sub.mkdir()
    d2 = workdir(sub, server.host,
                 f'provider_installation {{\n  network_mirror {{\n    url = "https://{server.host}/network-mirror/"\n  }}\n}}\n',
                 lock=lock)
    r2 = init(terraform, d2, ca, sub)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert f"Installed {server.host}/hastack/hastack v{release['version']}" in r2.stdout, r2.stdout
    assert lock_hashes(d2) == lock_hashes(d), "the mirror install changed the lock file"
    # The network mirror checks what it serves against the lock file: a tampered archive fails.
    zip_name, _, member = names(release)
    bad = tmp_path / "nm-bad"
    shutil.copytree(release["dir"] / "network-mirror", bad / "network-mirror")
    evil_zip(bad / "network-mirror" / server.host / "hastack" / "hastack" / zip_name, member)
    server.root = bad
    sub3 = tmp_path / "nm3"
    sub3.mkdir()
    d3 = workdir(sub3, server.host, (sub / "cli.tfrc").read_text(), lock=lock)
    r3 = init(terraform, d3, ca, sub3)
    assert r3.returncode != 0, r3.stdout
    h1 = release["hashes"]["linux_amd64"]["h1"]
    assert f"provider package doesn't match the expected checksum \"{h1}\"" in r3.err, r3.stderr


def _host_of(lock):
    return re.search(r'provider "([^"]+)/hastack/hastack"', lock).group(1)


# --- tampering is refused -------------------------------------------------------------------

def tamper_zip(root, release, other_key):
    zip_name, _, member = names(release)
    evil_zip(downloads(root, release) / zip_name, member)


def tamper_sums(root, release, other_key):
    """The attacker swaps the zip and fixes the checksums in SHA256SUMS and in the registry's
    answer, but cannot sign: only the signature can catch it."""
    zip_name, sums_name, member = names(release)
    dl = downloads(root, release)
    evil_zip(dl / zip_name, member)
    digest = hashlib.sha256((dl / zip_name).read_bytes()).hexdigest()
    sums = (dl / sums_name).read_text()
    sums = re.sub(rf"^[0-9a-f]{{64}}(  {re.escape(zip_name)})$", rf"{digest}\1", sums, flags=re.M)
    assert digest in sums
    (dl / sums_name).write_text(sums)
    set_download_shasum(root, release, digest)


def sign_with_other_key(root, release, other_key):
    """The release untouched, but signed by a key the registry does not list."""
    _, sums_name, _ = names(release)
    other_key.sign(downloads(root, release) / sums_name)


@pytest.mark.parametrize("tamper,error", [
    (tamper_zip, lambda rel: r"archive has incorrect checksum zh:[0-9a-f]{64} \(expected "
                             + re.escape(rel["hashes"]["linux_amd64"]["zh"]) + r"\)"),
    (tamper_sums, lambda rel: r"error checking signature: openpgp: invalid signature"),
    (sign_with_other_key, lambda rel: r"authentication signature from unknown issuer"),
], ids=["tampered_zip", "tampered_sha256sums", "signed_by_other_key"])
def test_registry_refuses_tampered_release(tamper, error, release, server, terraform, ca, tmp_path,
                                           other_key):
    root = registry_copy(release, tmp_path)
    tamper(root, release, other_key)
    server.root = root
    d = workdir(tmp_path, server.host, "")
    r = init(terraform, d, ca, tmp_path)
    assert r.returncode != 0, f"terraform init accepted a tampered release:\n{r.stdout}"
    assert re.search(error(release), r.err), r.stderr
    assert not (d / ".terraform" / "providers").exists() or not list(
        (d / ".terraform" / "providers").rglob("terraform-provider-hastack_v*")), "tampered provider installed"
