"""Per-step breakdown of one W7 (LeNet b=256) and one W4 (CNN b=64) training
step: symnet's ``f.profile`` beside torch.profiler's per-op table (issue #16).

    python bench/profile_conv.py [--only W7,W4] [--reps 10] [--top 25]
    OPENBLAS_NUM_THREADS=1 python bench/profile_conv.py --one-thread --clock thread

Prints symnet's slowest steps (kernels, driver lines) and op classes, then
PyTorch eager's self CPU time per aten op over the same number of steps.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.peers import Symnet, Torch  # noqa: E402
from bench.run import LR, MOM, cnn_data  # noqa: E402
from bench.w7_lenet import lenet_data, symnet_step, torch_step  # noqa: E402


def _symnet(workload):
    """``(step, f)``: one symnet step of ``workload`` and its function,
    compiled with profile=True."""
    import symnet
    made = {}
    orig = symnet.function

    def keep(*a, **k):
        made["f"] = orig(*a, profile=True, **k)
        return made["f"]
    symnet.function = keep
    try:
        mode = symnet.Mode("numba", tiered=False)
        if workload == "W4":
            params, x, y = cnn_data(64)
            step = Symnet(mode).cnn(params, x, y, LR, MOM)
        else:
            params, x, y = lenet_data(256)
            step = symnet_step(params, x, y, mode)[0]
    finally:
        symnet.function = orig
    return step, made["f"]


def _torch(workload):
    if workload == "W4":
        params, x, y = cnn_data(64)
        return Torch().cnn(params, x, y, LR, MOM)
    params, x, y = lenet_data(256)
    return torch_step(params, x, y)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="W7,W4")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--one-thread", action="store_true",
                    help="PyTorch on one thread (run with OPENBLAS_NUM_THREADS=1): "
                         "the work each op does, less disturbed by other processes")
    ap.add_argument("--clock", choices=("wall", "thread", "process"), default="wall",
                    help="what symnet's profile times: wall (default), this thread's "
                         "CPU (with --one-thread: the work of each op, which other "
                         "processes disturb least) or the process's CPU (all threads)")
    args = ap.parse_args(argv)
    if args.clock != "wall":
        import time
        from symnet.compile import instrument
        instrument._clock = time.thread_time if args.clock == "thread" else time.process_time
    if args.one_thread and not args.no_torch:
        import torch
        torch.set_num_threads(1)
    for w in args.only.split(","):
        step, f = _symnet(w)
        step()
        step()
        f.profile.reset()
        for _ in range(args.reps):
            step()
        print(f"=== {w} symnet ({os.environ.get('SYMNET_NUMBA_EMITTER', 'default')} emitter)")
        f.profile.summary(top=args.top)
        if args.no_torch:
            continue
        import torch
        tstep = _torch(w)
        tstep()
        tstep()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(args.reps):
                tstep()
        print(f"=== {w} torch, {args.reps} steps")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
