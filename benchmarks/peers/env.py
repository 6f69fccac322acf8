"""The peers' own virtualenv: build it once (cached), then run ``run_peers.py`` in it as a subprocess.

ChannelAttribution and marketing_attribution_models are never dependencies of revteam: they live in a
separate venv, by default ``<repo>/.cache/attribution-peers/venv-<hash of requirements.txt>`` (``.cache/``
is gitignored; ``REVTEAM_PEERS_VENV`` overrides the directory). The venv is built into a temporary
directory and renamed into place only when pip succeeded, so a half-built venv is never used.

    python benchmarks/peers/env.py            # build (or reuse) and print the venv's python
Importable by path from tests and benchmarks: ``ensure_peer_python()``, ``run_peers(spec)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REQUIREMENTS = HERE / "requirements.txt"
RUNNER = HERE / "run_peers.py"
MARKER = "PEERS-JSON: "


class PeerEnvError(RuntimeError):
    """The peers' venv could not be built; the message holds pip's own error."""


def venv_dir() -> Path:
    if os.environ.get("REVTEAM_PEERS_VENV"):
        return Path(os.environ["REVTEAM_PEERS_VENV"])
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    return ROOT / ".cache" / "attribution-peers" / f"venv-{digest}"


def ensure_peer_python(timeout: float = 1200) -> Path:
    """The peers venv's python, building the venv first when it is missing."""
    target = venv_dir()
    python = target / "bin" / "python"
    if (target / ".complete").exists() and python.exists():
        return python
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(tmp)], check=True, capture_output=True, timeout=300)
        pip = [str(tmp / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        out = subprocess.run(pip + ["-r", str(REQUIREMENTS)], capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise PeerEnvError(f"pip install -r {REQUIREMENTS.name} failed:\n{out.stderr[-4000:]}")
        (tmp / ".complete").write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        # only <venv>/bin/python is used; it finds its prefix from pyvenv.cfg, so the rename is safe
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return python


def run_peers(spec: dict, timeout: float = 3600) -> dict:
    """Run ``run_peers.py`` with ``spec`` in the peers venv and return its JSON answer."""
    python = ensure_peer_python()
    out = subprocess.run([str(python), str(RUNNER)], input=json.dumps(spec), capture_output=True, text=True,
                         timeout=timeout)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(MARKER)]
    if out.returncode != 0 or not lines:
        raise PeerEnvError(f"run_peers.py failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(lines[-1][len(MARKER):])


if __name__ == "__main__":
    print(ensure_peer_python())
