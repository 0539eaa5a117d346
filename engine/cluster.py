"""A batch's runs as Ray tasks (`impasto batch --ray auto|ADDRESS|local`).

Ray is an optional extra (`pip install impasto[cluster]`): it is imported only here and
only when a batch asks for it, so the desktop app and `--local` never load it. No shared
file system is assumed: each input file and each network's weights are put in Ray's
object store once per batch and every task gets references to them; the tasks send back
pixels, which engine/batch.py saves here. A task asks for a GPU where the cluster has one.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Callable

from engine.batch import Finished, RunOutput, describe_failure, run_task
from engine.batch_inputs import WeightsInfo
from engine.batch_spec import Job

INSTALL_HINT = "pip install 'impasto[cluster]'"
CONNECT_TIMEOUT_S = 5
# Ray's single-machine mode: its processes talk over 127.0.0.1 only.
_LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class ClusterError(RuntimeError):
    """Ray is missing or its cluster cannot be reached; one line, with what to do."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--ray needs Ray, which is not installed; {INSTALL_HINT}") from None
    return ray


def connect(address: str) -> bool:
    """Connect this process to the Ray cluster at `address` ("auto": the one this machine
    belongs to or RAY_ADDRESS names; "HOST:PORT": a head, which this process joins as a
    driver, so it must reach the cluster's ports; "local": start a private cluster on this
    machine, on 127.0.0.1). Returns whether this call connected (and so should
    disconnect): a process already connected (the tests, the window) keeps its connection,
    whatever `address` says."""
    if address == "local" and "ray" not in sys.modules:
        # Ray's single-machine mode, read when Ray is imported; the processes it starts
        # inherit it. (Imported already, Ray keeps the mode it was imported with.)
        os.environ.setdefault(_LOOPBACK_ONLY, "0")
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address not in ("auto", "local"):
        _check_reachable(address)
    options = {"include_dashboard": False, "log_to_driver": False,
               "logging_level": logging.WARNING}  # fmt: skip
    try:
        if address == "local":  # a new cluster, even where this machine is in one
            ray.init(address="local", **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        lines = str(error).strip().splitlines()
        why = lines[0] if lines else type(error).__name__
        # A head started by `ray start` (Ray 2.5x) asks for a token; a driver sends one
        # only when told to, and otherwise is just "not connected".
        token = "" if os.environ.get("RAY_AUTH_MODE") else (
            "; if the head uses token authentication (Ray's default), copy its "
            "~/.ray/auth_token here and set RAY_AUTH_MODE=token")  # fmt: skip
        raise ClusterError(f"no Ray cluster at {address} ({why}){token}") from None
    return True


def _check_reachable(address: str) -> None:
    """A head that does not answer fails here in seconds, in one line; Ray itself would
    retry for minutes, printing its own warnings."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--ray {address}: give auto, local or HOST:PORT of a Ray head")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        why = error.strerror or type(error).__name__  # "Connection refused", "timed out"
        raise ClusterError(f"no Ray cluster at {address} ({why}); start one there with "
                           "`ray start --head`, or use --ray local or --local") from None


def disconnect() -> None:
    import_ray().shutdown()


class RayRunner:
    """Runs each job as a Ray task on the connected cluster (see `connect`).

    Weights and inputs go into the object store once, here; a task's arguments are
    references to them, which Ray resolves on the worker's node (one copy per node).
    Ray's own retries are off: engine/batch.py retries a failed run once, for an error
    in the run and a lost worker alike, and reports both the same way."""

    def __init__(self, weights: dict[str, tuple[WeightsInfo, bytes]], inputs: dict[str, bytes],
                 work: Callable[..., RunOutput] = run_task):  # fmt: skip
        ray = self._ray = import_ray()
        resources = ray.cluster_resources()
        self.gpus = int(resources.get("GPU", 0))
        self.slots = max(1, self.gpus or int(resources.get("CPU", 1)))
        self._task = ray.remote(work).options(max_retries=0, num_cpus=1)
        self._weights = {arch: (info, ray.put(data)) for arch, (info, data) in weights.items()}
        self._inputs = {label: ray.put(data) for label, data in inputs.items()}
        self._pending: dict = {}  # ObjectRef -> (job index, attempt)
        self.stop = threading.Event()  # run_batch watches it between results

    def submit(self, job: Job, attempt: int) -> None:
        info, weights = self._weights[job.settings.model]
        # A GPU where there is one, unless the run asks for the CPU (or Apple's MPS).
        wants_gpu = self.gpus and job.settings.device in ("auto", "cuda")
        task = self._task.options(num_gpus=1) if wants_gpu else self._task
        inputs = self._inputs
        ref = task.remote(job.to_data(), info, weights, inputs[job.content],
                          inputs[job.init] if job.init else None,
                          *(inputs[label] for label in job.styles))  # fmt: skip
        self._pending[ref] = (job.index, attempt)

    def finished(self, timeout: float) -> list[Finished]:
        if not self._pending:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=timeout)
        if ready:  # and any others back by now
            ready, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=0)
        back = []
        for ref in ready:
            index, attempt = self._pending.pop(ref)
            try:
                back.append(Finished(index, attempt, ray.get(ref)))
            except ray.exceptions.RayTaskError as error:
                cause = getattr(error, "cause", None)  # the run's own exception
                back.append(Finished(index, attempt, None, describe_failure(cause or error)))
            except ray.exceptions.RayError as error:  # a lost worker or node
                back.append(Finished(index, attempt, None, describe_failure(error)))
        return back

    def cancel(self) -> None:
        # force: a running task's worker is stopped now, not at its next Python line.
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._pending.clear()
