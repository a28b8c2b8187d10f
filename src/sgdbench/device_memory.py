"""How much memory the device that runs the engine has, and a clear error when data will not fit.

A data set that does not fit comfortably in device memory fails here, before
any allocation, with one message naming the size and the limit, instead of an
out-of-memory crash deep inside XLA.
"""

from __future__ import annotations

import os

import jax

HEADROOM = 0.8  # use at most this fraction of the device's memory for data and streams


class DeviceMemoryError(ValueError):
    """The data (plus the engine's working set) exceed what the device can hold."""


def limit_bytes(device=None) -> int:
    """Usable bytes on ``device`` (default: JAX's first device).

    Accelerators report their allocator's limit; on the CPU it is the memory
    the OS reports available now. ``SGDBENCH_DEVICE_MEMORY_LIMIT`` (bytes)
    overrides both, e.g. to keep a shared node's share small.
    """
    if override := os.environ.get("SGDBENCH_DEVICE_MEMORY_LIMIT"):
        return int(float(override))
    device = device or jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _fmt(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TB"


def check(nbytes: int, what: str, device=None) -> None:
    """Raise DeviceMemoryError if ``nbytes`` exceed HEADROOM of the device's memory."""
    limit = limit_bytes(device)
    if nbytes > HEADROOM * limit:
        device = device or jax.devices()[0]
        raise DeviceMemoryError(
            f"{what} needs {_fmt(nbytes)} but {device.platform} device {device.device_kind!r} has "
            f"{_fmt(limit)} available (at most {HEADROOM:.0%} is used): use fewer examples or "
            "features, dtype float32, or a device with more memory"
        )
