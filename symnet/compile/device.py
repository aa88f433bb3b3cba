"""Theano's ``device`` setting on symnet: ``THEANO_FLAGS=device=cuda`` (or
the old backend's ``device=gpu``) makes symnet's CUDA backend the default.

Theano users select the GPU with a flag, not in their code::

    THEANO_FLAGS=device=cuda,floatX=float32 python train.py

:func:`apply_device` (called by ``symnet.compat.install()`` after
``config.read_theano_flags``) applies it:

* ``cpu`` (the default): nothing changes.
* ``cuda``, ``cudaN``, ``gpu``, ``gpuN``: when the CUDA backend can run
  here (a GPU, or numba's simulator with ``NUMBA_ENABLE_CUDASIM=1``) the GPU
  is *active*: the compiled modes (``config.mode`` 'numba' or 'FAST_RUN',
  and ``mode='FAST_RUN'`` passed to ``function``) compile for 'cuda', and
  Theano's GPU-only modules import (``theano.sandbox.cuda``,
  ``lasagne.layers.dnn``; ``gpuarray.pygpu_activated`` and
  ``dnn.dnn_present()`` are True).  Both spellings select the same backend:
  symnet has one, so ``pygpu_activated`` and ``cuda_enabled`` are both True.
  'py', 'fast_compile' and DebugMode stay on the host (they are the
  reference and debugging modes).
* When the backend cannot run, Theano logged an error ("pygpu was configured
  but could not be imported", or, before 1.0, "CUDA is installed, but device
  gpu is not available") and ran on the CPU; symnet warns
  (:class:`GpuUnavailableWarning`, saying why and what to do) and stays on
  the CPU, and the GPU-only modules raise ImportError as on a CPU-only
  Theano.  With ``force_device=True`` in THEANO_FLAGS (Theano's flag) or
  ``SYMNET_STRICT=1`` it is an error instead (``EnvironmentError``, Theano
  0.9's words).
* ``opencl*``: symnet has no OpenCL backend (the same warning or error).
* anything else is a ValueError, as in Theano.

:func:`use` is Theano's ``theano.sandbox.cuda.use`` / ``theano.gpuarray.use``.
"""
import os
import warnings

from ..configdefaults import _theano_flag, config

__all__ = ["apply_device", "use", "gpu_active", "is_gpu_device", "GpuUnavailableWarning",
           "unavailable_reason", "compiled_linker"]

_GPU_PREFIXES = ("cuda", "gpu")
_STATE = {"active": False}


class GpuUnavailableWarning(RuntimeWarning):
    """``device=cuda``/``gpu`` was asked for and the CUDA backend cannot run
    here: functions compile on the CPU."""


def is_gpu_device(name):
    """Whether ``name`` names a GPU device (cuda*, gpu*, opencl*)."""
    return str(name).startswith(_GPU_PREFIXES + ("opencl",))


def gpu_active():
    """Whether a GPU device is in use (``device=cuda``/``gpu`` on a machine
    where the CUDA backend runs): the compiled modes run on it and the
    GPU-only modules import."""
    return _STATE["active"]


def unavailable_reason(device="cuda"):
    """None when ``device`` can be used here, else why not (a sentence)."""
    if str(device).startswith("opencl"):
        return "symnet has no OpenCL backend (its GPU backend is CUDA: device=cuda)"
    from ..backend.cuda.runtime import CudaUnavailableError, cuda
    try:
        cuda()
    except CudaUnavailableError as exc:
        return str(exc)
    return None


def _check_name(device):
    if device == "cpu" or is_gpu_device(device):
        return
    raise ValueError(f'Invalid value ("{device}") for configuration variable "device". '
                     f'Valid options start with one of "cpu", "opencl", "cuda" or "gpu".')


def _forced():
    flag = (_theano_flag("force_device") or "").lower()
    return flag in ("true", "1") or config.strict




def use(device, force=False, default_to_move_computation_to_gpu=True,
        move_shared_to_gpu=True, **kwargs):
    """Theano's ``theano.sandbox.cuda.use(device)``: start using the GPU
    ``device`` ('cuda', 'cuda0', 'gpu', 'gpu0'...); the compiled modes then
    compile for symnet's CUDA backend (see the module docstring).

    When the CUDA backend cannot run here: with ``force`` (or
    ``SYMNET_STRICT=1``) an ``EnvironmentError``, else a
    :class:`GpuUnavailableWarning` and nothing changes.  Returns whether
    the GPU is active.  ``move_shared_to_gpu`` and the other arguments are
    accepted: the CUDA backend keeps every shared variable of a function on
    the device anyway.
    """
    _check_name(device)
    if device == "cpu":
        return gpu_active()
    why = unavailable_reason(device)
    if why is not None:
        if force or _forced():
            raise EnvironmentError(
                f"You forced the use of gpu device {device}, but CUDA initialization "
                f"failed with error:\n{why}")
        warnings.warn(
            f"device={device}: symnet's CUDA backend is not available here, so functions "
            f"compile on the CPU (mode {config.mode!r}) and the GPU-only modules "
            f"(lasagne.layers.dnn, theano.sandbox.cuda) raise ImportError, as Theano did "
            f"without a usable GPU ('pygpu was configured but could not be imported'). "
            f"Why: {why}. THEANO_FLAGS force_device=True or SYMNET_STRICT=1 make this an "
            f"error.", GpuUnavailableWarning, stacklevel=3)
        return False
    _STATE["active"] = True
    config.device = device
    if default_to_move_computation_to_gpu and config.mode in ("numba", "FAST_RUN"):
        config.mode = "cuda"
    return True


def apply_device(device):
    """Apply THEANO_FLAGS' ``device`` (see the module docstring)."""
    _check_name(device)
    config.device = device
    if device != "cpu":
        use(device)


def compiled_linker():
    """The backend Theano's FAST_RUN compiles for: 'cuda' while a GPU
    device is active, else 'numba'."""
    return "cuda" if gpu_active() else "numba"


def _reset():
    """Back to the CPU (for tests): the state before any ``device`` flag."""
    _STATE["active"] = False
    config.device = "cpu"
    if config.mode == "cuda":
        config.mode = os.environ.get("SYMNET_MODE", "numba")
