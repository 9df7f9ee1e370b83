#!/usr/bin/env python3
"""The footprint of one idle agent, in figures that do not depend on the machine's load
(docs/BENCHMARKS.md, "Agent footprint"):

- start-up CPU: the time on CPU of the agent's threads (/proc/PID/task/TID/schedstat, exact) at
  the moment GET /v1/health first answers 200, the agent started alone (`rumor agent --preset
  lan`, nobody to join) on 127.0.0.x; utime + stime (/proc/PID/stat) beside it, which the kernel
  samples at each clock tick and so varies more on a loaded machine. CPU-seconds, not wall time:
  a loaded machine delays the start but changes less what it burns. Each variant is started
  --runs times and the median is printed.
- memory after --idle seconds alone: VmRSS, RssAnon and RssFile (/proc/PID/status), medians.
- the executable's size.
- idle wake-ups: over a --window after the idle wait, each thread's voluntary + involuntary
  context switches (/proc/PID/task/TID/status), summed by thread name, per second, for the
  first agent of the variant (the others are alike); and the idle CPU of all its agents.

Every agent of every variant runs at the same time during the idle wait and the window (they
do not know each other), and the variants' start-ups are interleaved run by run, so a change of
load hits every variant alike. Examples:

    python3 scripts/agent-footprint.py --variant main=/tmp/main/rumor --variant lean=artifacts/rumor-linux-x64/rumor
    python3 scripts/agent-footprint.py --variant default=rumor --variant "gen0-1MiB=rumor|DOTNET_GCgen0size=0x100000"

A variant's value is the executable, optionally followed by |NAME=VALUE environment settings.
"""
import argparse
import collections
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procstat import cpu_exact_seconds, cpu_seconds, memory_mib, thread_switches  # noqa: E402  (scripts/procstat.py, found from any working directory)


def start(executable, env, host, gossip, api, bound):
    """Starts one agent and returns (process, start-up CPU-seconds when /v1/health first answered)."""
    args = [executable, "agent", "--name", f"footprint-{gossip}", "--bind", f"{host}:{gossip}", "--http", f"{host}:{api}", "--preset", "lan", "--log-level", "warning"]
    process = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://{host}:{api}/v1/health"
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{executable} exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    # Read at once: the agent burns nothing more for us between the answer and this read.
                    return process, (cpu_exact_seconds(process.pid), cpu_seconds(process.pid))
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.002)
    process.kill()
    raise TimeoutError(url)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", required=True, help="LABEL=EXECUTABLE[|NAME=VALUE...]")
    parser.add_argument("--runs", type=int, default=5, help="agents started per variant (default 5)")
    parser.add_argument("--idle", type=float, default=30, help="seconds idle before memory is read (default 30)")
    parser.add_argument("--window", type=float, default=20, help="seconds over which wake-ups are counted (default 20)")
    parser.add_argument("--base-port", type=int, default=29000)
    parser.add_argument("--start-bound", type=float, default=120, help="seconds an agent may take to answer /v1/health")
    options = parser.parse_args()
    variants = []
    for variant in options.variant:
        label, spec = variant.split("=", 1)
        executable, *settings = spec.split("|")
        variants.append((label, executable, dict(s.split("=", 1) for s in settings)))

    running = collections.defaultdict(list)  # label -> [(process, (start-up cpu from schedstat, from utime + stime))]
    try:
        for run in range(options.runs):
            for index, (label, executable, env) in enumerate(variants):
                # 127.0.0.x: one loopback address per variant, one port pair per run.
                host = f"127.0.0.{10 + index}"
                gossip = options.base_port + 10 * run
                running[label].append(start(executable, env, host, gossip, gossip + 1, options.start_bound))
        load_start = os.getloadavg()[0]
        time.sleep(options.idle)
        memory = {label: [memory_mib(p.pid) for p, _ in agents] for label, agents in running.items()}
        before = {label: (thread_switches(agents[0][0].pid), [cpu_seconds(p.pid) for p, _ in agents]) for label, agents in running.items()}
        window_start = time.monotonic()
        time.sleep(options.window)
        elapsed = time.monotonic() - window_start
        print(f"load average at start-up {load_start:.2f}, after the window {os.getloadavg()[0]:.2f}; {options.runs} agents per variant, idle {options.idle:.0f} s, window {elapsed:.1f} s")
        print(f"{'variant':<20} {'binary MiB':>10} {'start CPU s schedstat (median, min-max)':>40} {'utime+stime':>12} {'VmRSS':>7} {'RssAnon':>8} {'RssFile':>8} {'idle CPU %':>10} {'wake-ups/s':>10}")
        for label, executable, _ in variants:
            agents = running[label]
            starts = [c[0] for _, c in agents]
            ticks = [c[1] for _, c in agents]
            mem = {key: statistics.median(m[key] for m in memory[label]) for key in ("VmRSS", "RssAnon", "RssFile")}
            idle_cpu = statistics.median(100 * (cpu_seconds(p.pid) - c0) / elapsed for (p, _), c0 in zip(agents, before[label][1]))
            after = thread_switches(agents[0][0].pid)
            by_name = collections.Counter()
            for tid, (name, switches) in after.items():
                by_name[name] += switches - before[label][0].get(tid, (name, 0))[1]
            total = sum(by_name.values()) / elapsed
            size = os.path.getsize(executable) / 2**20
            spread = f"{statistics.median(starts):.3f} ({min(starts):.3f}-{max(starts):.3f})"
            print(f"{label:<20} {size:>10.1f} {spread:>40} {statistics.median(ticks):>12.2f} {mem['VmRSS']:>7.1f} {mem['RssAnon']:>8.1f} {mem['RssFile']:>8.1f} {idle_cpu:>10.2f} {total:>10.2f}")
            for name, count in by_name.most_common():
                if count > 0:
                    print(f"    {name:<24} {count / elapsed:7.2f}/s")
            print(f"    threads: {len(after)}")
    finally:
        for agents in running.values():
            for process, _ in agents:
                process.terminate()
        for agents in running.values():
            for process, _ in agents:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    main()
