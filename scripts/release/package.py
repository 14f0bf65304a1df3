#!/usr/bin/env python3
"""Packs built provider binaries into a Terraform provider release (stdlib only).

Called by scripts/release.sh after the build; usable on its own:

    package.py --version 0.2.0 --out dist/0.2.0 --binary linux_amd64=path/to/bin [...]
               [--host registry.terraform.io] [--namespace hastack]
               [--download-base /downloads/hastack/hastack/0.2.0] [--gpg-key-id ID | --unsigned]

Writes, in --out:
  terraform-provider-hastack_VERSION_OS_ARCH.zip   one flat zip per platform, holding only
                                                   terraform-provider-hastack_vVERSION (mode 0755)
  terraform-provider-hastack_VERSION_manifest.json {"version":1,"metadata":{"protocol_versions":["6.0"]}}
  terraform-provider-hastack_VERSION_SHA256SUMS    sha256 of the zips and the manifest
  terraform-provider-hastack_VERSION_SHA256SUMS.sig detached binary GPG signature of SHA256SUMS
  hashes.json, lock.hcl                            h1: and zh: hashes; the lock file entry a registry
                                                   install writes (h1: of each platform, zh: of
                                                   each SHA256SUMS line)
  mirror/packed/HOST/NS/TYPE/<zip>                 filesystem mirror, packed layout
  mirror/unpacked/HOST/NS/TYPE/VERSION/OS_ARCH/    filesystem mirror, unpacked layout
  network-mirror/HOST/NS/TYPE/{index.json,VERSION.json,<zip>}   provider network mirror protocol
  registry/.well-known/terraform.json, registry/v1/providers/NS/TYPE/...  provider registry protocol
                                                   (signed releases only)
"""
import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

TYPE = "hastack"
PROTOCOLS = ["6.0"]
# Every zip entry gets this timestamp: the same binary makes the same zip (and zh: hash).
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
PLATFORM = re.compile(r"^[a-z0-9]+_[a-z0-9]+$")


class ReleaseError(Exception):
    pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def h1_of_files(files):
    """Go's dirhash.Hash1, as Terraform computes `h1:` hashes.

    files: (name, sha256 hex of contents). The summary is one "<hex>  <name>\\n" line per
    file, sorted by name; h1 is base64(sha256(summary)).
    """
    lines = []
    for name, digest in sorted(files):
        if "\n" in name:
            raise ReleaseError(f"file name with a newline: {name!r}")
        lines.append(f"{digest}  {name}\n")
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


def h1_of_zip(path):
    """h1 of a zip's contents: every entry counts (a directory entry too), by its zip name."""
    with zipfile.ZipFile(path) as z:
        return h1_of_files((i.filename, hashlib.sha256(z.read(i)).hexdigest()) for i in z.infolist())


def write_zip(zip_path, binary, member):
    info = zipfile.ZipInfo(member, date_time=ZIP_DATE)
    info.create_system = 3  # unix: the mode below is honoured when Terraform unpacks
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(zip_path, "w") as z, open(binary, "rb") as src:
        with z.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def link_or_copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.exists(dst):
        os.remove(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def gpg(args, gnupghome=None, passphrase=None):
    env = dict(os.environ)
    if gnupghome:
        env["GNUPGHOME"] = gnupghome
    cmd = ["gpg", "--batch", "--no-tty"]
    if passphrase is not None:
        cmd += ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]
    r = subprocess.run(cmd + args, env=env, input=(passphrase or "").encode(),
                       capture_output=True)
    if r.returncode != 0:
        raise ReleaseError(f"gpg {' '.join(args)} failed: {r.stderr.decode().strip()}")
    return r.stdout.decode()


def signing_key(key_id, gnupghome):
    """(long key id, armored public key) of a secret RSA/DSA key; the registry refuses others."""
    out = gpg(["--with-colons", "--list-secret-keys", key_id], gnupghome)
    sec = [line.split(":") for line in out.splitlines() if line.startswith("sec:")]
    if len(sec) != 1:
        raise ReleaseError(f"GPG key {key_id!r} names {len(sec)} secret keys; name exactly one")
    algo, long_id = sec[0][3], sec[0][4]
    if algo not in ("1", "17"):  # RFC 4880: 1 = RSA, 17 = DSA
        raise ReleaseError(
            f"GPG key {long_id} uses algorithm {algo}: Terraform registries accept only RSA or DSA "
            "signing keys (make one with `gpg --quick-generate-key NAME rsa4096 sign`)")
    armor = gpg(["--armor", "--export", long_id], gnupghome)
    return long_id, armor


def package(a):
    if not SEMVER.match(a.version):
        raise ReleaseError(f"version {a.version!r} is not semantic (MAJOR.MINOR.PATCH[-PRE])")
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    prefix = f"terraform-provider-{TYPE}_{a.version}"
    member = f"terraform-provider-{TYPE}_v{a.version}"
    platforms = {}
    for spec in a.binary:
        plat, _, path = spec.partition("=")
        if not PLATFORM.match(plat) or not path:
            raise ReleaseError(f"--binary {spec!r}: expected OS_ARCH=PATH, e.g. linux_amd64=target/release/x")
        if not os.path.isfile(path):
            raise ReleaseError(f"--binary {spec!r}: no such file")
        platforms[plat] = path
    if not platforms:
        raise ReleaseError("no binaries to package")

    hashes = {}
    zips = {}
    for plat, binary in sorted(platforms.items()):
        zip_name = f"{prefix}_{plat}.zip"
        zip_path = os.path.join(out, zip_name)
        write_zip(zip_path, binary, member)
        zips[plat] = zip_name
        hashes[plat] = {"h1": h1_of_zip(zip_path), "zh": "zh:" + sha256_file(zip_path)}
        # The unpacked mirror holds the same file, so the same h1.
        unpacked = os.path.join(out, "mirror", "unpacked", a.host, a.namespace, TYPE, a.version, plat)
        shutil.rmtree(unpacked, ignore_errors=True)
        os.makedirs(unpacked)
        shutil.copy2(binary, os.path.join(unpacked, member))
        os.chmod(os.path.join(unpacked, member), 0o755)
        digest = sha256_file(os.path.join(unpacked, member))
        if h1_of_files([(member, digest)]) != hashes[plat]["h1"]:
            raise ReleaseError(f"{plat}: the unpacked mirror's h1 differs from the zip's")
        link_or_copy(zip_path, os.path.join(out, "mirror", "packed", a.host, a.namespace, TYPE, zip_name))

    manifest_name = f"{prefix}_manifest.json"
    with open(os.path.join(out, manifest_name), "w") as f:
        json.dump({"version": 1, "metadata": {"protocol_versions": PROTOCOLS}}, f)
    sums_name = f"{prefix}_SHA256SUMS"
    sums = "".join(f"{sha256_file(os.path.join(out, n))}  {n}\n"
                   for n in sorted(list(zips.values()) + [manifest_name]))
    with open(os.path.join(out, sums_name), "w") as f:
        f.write(sums)

    sig_name = sums_name + ".sig"
    keys = []
    if a.unsigned:
        for stale in (sig_name, "signing-key.asc"):
            if os.path.exists(os.path.join(out, stale)):
                os.remove(os.path.join(out, stale))
    else:
        if not a.gpg_key_id:
            raise ReleaseError("no signing key: pass --gpg-key-id (or --unsigned for a local build)")
        long_id, armor = signing_key(a.gpg_key_id, a.gnupghome)
        sig_path = os.path.join(out, sig_name)
        if os.path.exists(sig_path):
            os.remove(sig_path)
        try:
            gpg(["--local-user", long_id, "--detach-sign", "--output", sig_path,
                 os.path.join(out, sums_name)], a.gnupghome, a.passphrase)
        except ReleaseError as e:
            hint = "" if a.passphrase is not None else (
                " (if the key has a passphrase, set HASTACK_RELEASE_GPG_PASSPHRASE)")
            raise ReleaseError(f"signing with {long_id} failed{hint}: {e}") from None
        # Check what was written, as Terraform will: against the exported public key only.
        gpg(["--verify", sig_path, os.path.join(out, sums_name)], a.gnupghome)
        with open(os.path.join(out, "signing-key.asc"), "w") as f:
            f.write(armor)
        keys = [{"key_id": long_id, "ascii_armor": armor, "trust_signature": "",
                 "source": "hastack", "source_url": None}]

    # Terraform locks a zh: for every line of a signed SHA256SUMS (the manifest's too) and
    # the h1: of the package it installed; the entry below is what a registry install writes.
    sums_zh = sorted("zh:" + line.split()[0] for line in sums.splitlines())
    write_json(os.path.join(out, "hashes.json"),
               {"version": a.version, "platforms": hashes, "sha256sums_zh": sums_zh})
    addr = f"{a.host}/{a.namespace}/{TYPE}"
    all_hashes = sorted(h["h1"] for h in hashes.values()) + sums_zh
    with open(os.path.join(out, "lock.hcl"), "w") as f:
        f.write(f'provider "{addr}" {{\n  version = "{a.version}"\n  hashes = [\n')
        f.writelines(f'    "{h}",\n' for h in all_hashes)
        f.write("  ]\n}\n")

    # Provider network mirror protocol: archive URLs relative to VERSION.json.
    nm = os.path.join(out, "network-mirror", a.host, a.namespace, TYPE)
    write_json(os.path.join(nm, "index.json"), {"versions": {a.version: {}}})
    write_json(os.path.join(nm, f"{a.version}.json"), {"archives": {
        plat: {"url": zips[plat], "hashes": [hashes[plat]["h1"]]} for plat in sorted(zips)}})
    for name in zips.values():
        link_or_copy(os.path.join(out, name), os.path.join(nm, name))

    # Provider registry protocol: static answers, served from registry/ as the document root.
    # Terraform installs nothing unsigned from a registry: an unsigned build gets no registry/.
    if a.unsigned:
        print("unsigned: no registry/ answers (a registry must serve a signature)", file=sys.stderr)
        return hashes
    reg = os.path.join(out, "registry")
    write_json(os.path.join(reg, ".well-known", "terraform.json"), {"providers.v1": "/v1/providers/"})
    api = os.path.join(reg, "v1", "providers", a.namespace, TYPE)
    plats = [dict(zip(("os", "arch"), p.split("_", 1))) for p in sorted(zips)]
    write_json(os.path.join(api, "versions"), {"versions": [
        {"version": a.version, "protocols": PROTOCOLS, "platforms": plats}]})
    base = a.download_base or f"/downloads/{a.namespace}/{TYPE}/{a.version}"
    if not a.download_base:
        for name in list(zips.values()) + [manifest_name, sums_name, sig_name]:
            link_or_copy(os.path.join(out, name),
                         os.path.join(reg, "downloads", a.namespace, TYPE, a.version, name))
    for plat, name in zips.items():
        os_, arch = plat.split("_", 1)
        write_json(os.path.join(api, a.version, "download", os_, arch), {
            "protocols": PROTOCOLS, "os": os_, "arch": arch, "filename": name,
            "download_url": f"{base}/{name}",
            "shasums_url": f"{base}/{sums_name}",
            "shasums_signature_url": f"{base}/{sig_name}",
            "shasum": hashes[plat]["zh"][3:],
            "signing_keys": {"gpg_public_keys": keys},
        })
    return hashes


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--binary", action="append", default=[], help="OS_ARCH=PATH (repeat)")
    p.add_argument("--host", default="registry.terraform.io")
    p.add_argument("--namespace", default="hastack")
    p.add_argument("--download-base", default="",
                   help="URL (or absolute path) the registry's download answers point to")
    p.add_argument("--gpg-key-id")
    p.add_argument("--gnupghome")
    p.add_argument("--unsigned", action="store_true")
    a = p.parse_args()
    a.passphrase = os.environ.get("HASTACK_RELEASE_GPG_PASSPHRASE")
    try:
        hashes = package(a)
    except ReleaseError as e:
        print(f"package.py: {e}", file=sys.stderr)
        return 1
    for plat, h in sorted(hashes.items()):
        print(f"{plat}: {h['h1']} {h['zh']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
