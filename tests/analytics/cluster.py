"""A real Spark standalone cluster on this machine, for the ``spark_cluster`` test tier.

A master and a worker, each its own JVM process, started with the ``spark-class`` launcher that ships in
pyspark's ``bin`` directory, bound to 127.0.0.1 on free ports, logging to a temporary directory. The tests
then reach it exactly as a user would: ``REVTEAM_ANALYTICS_ENGINE=spark``, ``REVTEAM_SPARK_MASTER=
spark://127.0.0.1:<port>`` and ``REVTEAM_SPARK_CONF`` (the driver's address, the executor's memory); the
driver runs in the test process, the executor in the worker. Both processes are stopped at the end (their
process groups, by id), and die with the test process if it is killed first.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKER_CORES = 1
WORKER_MEMORY = "1g"
START_TIMEOUT_S = 90
# what a user with small data sets too (docs/scale.md): one shuffle partition, no adaptive re-planning and no
# whole-stage code generation, which cost more than they save on tables of a few thousand rows (about a
# third of the tier's time)
SMALL_DATA = {"spark.sql.shuffle.partitions": "1", "spark.sql.adaptive.enabled": "false",
              "spark.sql.codegen.wholeStage": "false"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> Path | None:
    """pyspark's directory (it holds ``bin/spark-class`` and ``jars/``), or None when pyspark is missing."""
    try:
        import pyspark
    except ImportError:
        return None
    home = Path(pyspark.__file__).parent
    return home if (home / "bin" / "spark-class").exists() else None


def missing() -> str | None:
    """Why a cluster cannot start here, or None."""
    if spark_home() is None:
        return "pyspark (with its bin/spark-class launcher) is not installed (pip install 'revteam[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed; Spark needs a JDK 17"
    return None


@dataclass
class Cluster:
    """A running master and worker. ``settings`` are the environment a user would set to use it."""

    master_url: str
    web_url: str
    logs: Path
    cores: int = WORKER_CORES
    memory: str = WORKER_MEMORY
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, str]:
        return {"REVTEAM_ANALYTICS_ENGINE": "spark", "REVTEAM_SPARK_MASTER": self.master_url,
                "REVTEAM_SPARK_CONF": json.dumps({"spark.driver.host": "127.0.0.1",
                                                  "spark.driver.bindAddress": "127.0.0.1",
                                                  "spark.executor.memory": self.memory,
                                                  "spark.cores.max": str(self.cores),
                                                  "spark.ui.enabled": "false", **SMALL_DATA})}

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as r:  # the master's status page
            return json.load(r)

    def stop(self) -> None:
        for p in reversed(self.processes):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)  # its own process group (start_new_session): the JVM it exec'd
        for p in reversed(self.processes):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-lines:])
                         for f in sorted(self.logs.glob("*.log")))


def start_cluster(cores: int = WORKER_CORES, memory: str = WORKER_MEMORY) -> Cluster:
    """Start a master and one worker (``cores`` cores, ``memory`` for executors) and wait until the worker is
    registered with the master."""
    home = spark_home()
    assert home is not None, missing()
    logs = Path(tempfile.mkdtemp(prefix="revteam-spark-cluster-"))
    port, web, worker_web = free_port(), free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(logs),
           "SPARK_WORKER_DIR": str(logs / "work"), "SPARK_NO_DAEMONIZE": "1"}
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web}", logs, cores=cores, memory=memory)

    def launch(name: str, *args: str) -> None:
        out = open(logs / f"{name}.log", "wb")
        cluster.processes.append(subprocess.Popen([str(home / "bin" / "spark-class"), *args], env=env, stdout=out,
                                                  stderr=subprocess.STDOUT, start_new_session=True,
                                                  preexec_fn=_die_with_parent))

    try:
        launch("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
               "--webui-port", str(web))
        _wait(cluster, lambda s: s.get("status") == "ALIVE", "the master to start")
        launch("worker", "org.apache.spark.deploy.worker.Worker", cluster.master_url, "--host", "127.0.0.1",
               "--cores", str(cores), "--memory", memory, "--webui-port", str(worker_web),
               "--work-dir", str(logs / "work"))
        _wait(cluster, lambda s: s.get("aliveworkers", 0) >= 1, "the worker to register")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _die_with_parent() -> None:
    """In the child, before it becomes the JVM: ask Linux to send it SIGTERM when the test process dies, so a
    killed test run (a timeout, the OOM killer) leaves no master or worker behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stop() at the end of the session still stops them


def _wait(cluster: Cluster, ready: Any, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for p in cluster.processes:
            if p.poll() is not None:
                raise RuntimeError(f"a Spark process exited ({p.returncode}) while waiting for {what}:\n"
                                   f"{cluster.log_tail()}")
        try:
            if ready(cluster.status()):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"timed out after {START_TIMEOUT_S} s waiting for {what}:\n{cluster.log_tail()}")
