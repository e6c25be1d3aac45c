"""What every Ray job needs: a checked cluster address (``--ray-address``), joining it, an actor pool sized to
it, and one-line errors for what fails on it.

The Ray jobs themselves live beside their local counterparts and share these: corpus and query encoding in
:mod:`embedtune.retrieval.ray_encode`, LLM query writing in :mod:`embedtune.querygen.backends.ray_generate`.
Which cluster a run uses is not kept here: it travels with the run's
:class:`~embedtune.retrieval.runner.Runner`. Nothing here imports another embedtune package but
:mod:`embedtune.errors`.
"""

from __future__ import annotations

import re
import socket

from embedtune.errors import EmbedtuneError

_ADDRESS_FORMS = "auto, local, HOST:PORT or ray://HOST:PORT"


def _host_port(address: str) -> tuple[str, int]:
    """(host, port) of a ``HOST:PORT`` or ``ray://HOST:PORT`` address; a one-line error for anything else."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise EmbedtuneError(f"ray_address {address!r}: expected {_ADDRESS_FORMS}")
    return host, int(port)


def check_ray_address(address: str) -> str:
    """``address`` when it has one of the accepted forms (no network); a one-line error naming the forms otherwise."""
    if address not in ("auto", "local"):
        _host_port(address)
    return address


def connect_ray(address: str | None) -> None:
    """Join the Ray cluster at ``address`` (None or ``"local"``: start one on this machine), once per process.

    An unreachable address is a one-line error within seconds: Ray itself keeps retrying a dead ``HOST:PORT``
    for minutes, so the port is probed first.
    """
    import ray

    if ray.is_initialized():
        return
    if address not in (None, "local", "auto"):
        host, port = _host_port(address)
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as e:
            raise EmbedtuneError(f"cannot reach the Ray cluster at {address!r} ({e.strerror or e})") from None
    try:
        ray.init(address=None if address in (None, "local") else address, include_dashboard=False,
                 log_to_driver=False)
    except (ConnectionError, ValueError) as e:
        raise EmbedtuneError(f"cannot reach the Ray cluster at {address!r} ({e})") from None


def actor_pool(cpus_per_actor: int, n_blocks: int, num_actors: int | None = None):
    """The pool for a job of ``n_blocks`` blocks: ``num_actors`` (None: the cluster's CPUs / ``cpus_per_actor``),
    never more actors than blocks."""
    import ray

    if num_actors is None:
        num_actors = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    return ray.data.ActorPoolStrategy(size=min(num_actors, n_blocks))


# "module.ExceptionName: message" lines of the traceback text Ray puts in its errors (it keeps no exception object).
_RAISED = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception)): (.+)$", re.MULTILINE)


def ray_failure(error: Exception) -> EmbedtuneError:
    """One line for a Ray job that failed: the error an actor raised (ours verbatim), not Ray's pages of traceback."""
    for name, message in _RAISED.findall(str(error)):
        if name.endswith("EmbedtuneError"):
            return EmbedtuneError(message)
        if not name.startswith("ray."):
            return EmbedtuneError(f"a Ray actor failed: {name.rsplit('.', 1)[-1]}: {message}")
    lines = str(error).strip().splitlines()
    return EmbedtuneError(f"the Ray job failed: {lines[0] if lines else type(error).__name__}")
