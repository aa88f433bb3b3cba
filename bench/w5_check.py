"""W5 (calls/s of f(x)=x+1) in one process before and after other
workloads: does anything a workload leaves behind (peers' thread pools,
a heap full of their objects) slow the calls that follow?

    python bench/w5_check.py                 # after W1 (every system)
    WS=w2,w4,rs python bench/w5_check.py     # after W2, W4, W3's rewrite scaling

Each line: symnet's and numpy's rates (best and median of 7 windows of
20,000 calls, interleaved) and the CPU seconds the process's other threads
(BLAS, OpenMP, XLA pools) used during those windows, then the same after
2 s, after gc.collect + gc.freeze, and after torch.set_num_threads(1).
QUICK=1 runs the workloads' quick sizes.  What it found is in run.py's
docstring (it is why W5 runs each system in a child process of its own).
"""
import gc
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench import peers, run as br  # noqa: E402


def rate(call, n=20000):
    return 1.0 / br.median_time(call, n, warmup=100)


def thread_cpu():
    """{thread id: (name, utime + stime ticks)} of this process's threads."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/self/task/{tid}/comm") as fh:
                name = fh.read().strip()
        except OSError:      # a thread that ended meanwhile
            continue
        out[tid] = (name, int(fields[11]) + int(fields[12]))
    return out


def w5(label, systems):
    calls = {n: systems[n].overhead() for n in ("symnet", "numpy")}
    before, t0 = thread_cpu(), time.perf_counter()
    got = {n: [] for n in calls}
    for _ in range(7):
        for n, c in calls.items():
            got[n].append(rate(c))
    wall, after = time.perf_counter() - t0, thread_cpu()
    main = str(os.getpid())
    others = sum(after[t][1] - before.get(t, ("", 0))[1] for t in after if t != main)
    cells = "  ".join(f"{n} best {max(v) / 1e3:5.0f}k med {statistics.median(v) / 1e3:5.0f}k"
                      for n, v in got.items())
    print(f"{label:40s} {cells}  other threads' CPU: "
          f"{others / os.sysconf('SC_CLK_TCK'):.2f}s of {wall:.2f}s "
          f"({len(after)} threads)", flush=True)


def main():
    systems = {"symnet": peers.adapter("symnet"), "numpy": peers.adapter("numpy")}
    w5("fresh (symnet and numpy only)", systems)
    everyone = peers.available()
    w5("after importing every peer", systems)
    rows, quick = [], os.environ.get("QUICK") == "1"
    workloads = os.environ.get("WS", "w1").split(",")
    for w in workloads:
        if w == "rs":
            rows.append(br._rewrite_scaling(quick))
        else:
            getattr(br, "run_" + w)(everyone, quick, rows)
    w5("after " + ",".join(workloads), systems)
    time.sleep(2)
    w5("  the same, 2 s later", systems)
    gc.collect()
    gc.freeze()
    w5("  the same, after gc.collect + gc.freeze", systems)
    if "torch" in everyone:
        import torch
        torch.set_num_threads(1)
        w5("  the same, torch.set_num_threads(1)", systems)
    return 0


if __name__ == "__main__":
    sys.exit(main())
