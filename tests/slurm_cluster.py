"""A single-node SLURM cluster on localhost for the integration test: Debian's munge and SLURM
packages, started without systemd, stopped by PID. Needs root and apt-get."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client")
ETC = Path("/etc/slurm")


def available() -> str | None:
    """None when a cluster can be started here, else why not."""
    if os.geteuid() != 0:
        return "needs root (apt-get and the SLURM daemons)"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "needs apt-get to install SLURM"
    return None


def install() -> None:
    if all(shutil.which(b) for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue")):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=True, env=env,
                   capture_output=True)


def _conf(state: Path, cpus: int, mem_mb: int) -> str:
    """The node is declared with the profile's largest request (config_overrides: slurmd accepts
    more CPUs and memory than the machine has), so every rule's resources can be scheduled. Ended
    jobs stay in squeue and scontrol for an hour (MinJobAge; SLURM's default is 5 minutes), so a
    test sees every attempt of a resubmitted job."""
    host = socket.gethostname()
    return f"""ClusterName=traindyn-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmdParameters=config_overrides
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/d
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
JobCompType=jobcomp/none
MinJobAge=3600
AccountingStorageType=accounting_storage/none
NodeName={host} CPUs={cpus} RealMemory={mem_mb} Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise TimeoutError(f"timed out waiting for {what}")


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@contextmanager
def local_cluster(state: Path, cpus: int = 8, mem_mb: int = 32000):
    """Start munged, slurmctld and slurmd; yield; stop them by PID and restore /etc/slurm."""
    install()
    state.mkdir(parents=True, exist_ok=True)
    for sub in ("ctld", "d"):
        (state / sub).mkdir(exist_ok=True)
    (state / "slurm.conf").write_text(_conf(state, cpus, mem_mb))
    (state / "gres.conf").write_text("Name=gpu File=/dev/null\n")  # a GPU request, no GPU
    ETC.mkdir(parents=True, exist_ok=True)
    links = []
    for name in ("slurm.conf", "gres.conf"):  # the plugin drops SLURM_CONF inside jobs
        target = ETC / name
        if target.exists() or target.is_symlink():
            raise RuntimeError(f"{target} exists: refusing to replace a real SLURM setup")
        target.symlink_to(state / name)
        links.append(target)
    munge_dir = Path("/run/munge")
    munge_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(munge_dir, 0o755)
    pids: list[int] = []
    try:
        subprocess.run(["munged", "--force", f"--pid-file={state}/munged.pid"], check=True)
        _wait(lambda: _pid(state / "munged.pid"), 10, "munged")
        pids.append(_pid(state / "munged.pid"))
        subprocess.run(["slurmctld"], check=True)
        _wait(lambda: _pid(state / "slurmctld.pid"), 20, "slurmctld")
        pids.append(_pid(state / "slurmctld.pid"))
        subprocess.run(["slurmd"], check=True)
        _wait(lambda: _pid(state / "slurmd.pid"), 20, "slurmd")
        pids.append(_pid(state / "slurmd.pid"))
        _wait(lambda: "idle" in subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True,
                                               text=True).stdout, 30, "the node to be idle")
        yield state
    finally:
        for pid in reversed(pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in pids:
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        for link in links:
            link.unlink(missing_ok=True)
