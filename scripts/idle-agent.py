#!/usr/bin/env python3
"""What wakes an idle agent (docs/BENCHMARKS.md, "Idle agent").

Starts a 3-agent cluster on 127.0.0.1 (`rumor agent --preset lan`), lets it settle, then over a
quiet window reads, for agent 1, /proc: CPU time (utime + stime), and each thread's voluntary and
involuntary context switches, i.e. how often each thread went to sleep and was woken (a wakeup is
one switch). No tracer is attached, so the figures are not inflated by the measurement. Each
--variant is one set of agents, measured in the same run:

    python3 scripts/idle-agent.py --variant before=/tmp/before/rumor --variant after=src/Rumor.Cli/bin/Release/net10.0/rumor
    python3 scripts/idle-agent.py --variant gc-default=rumor --variant "gc-nonconcurrent=rumor|DOTNET_gcConcurrent=0"
    python3 scripts/idle-agent.py --protocol serf --agents 1 --variant after=artifacts/rumor-linux-x64/rumor

--agents sets the cluster size (1: a lone agent); the figures are agent 1's (agent 0's when alone),
then the mean over all the variant's agents. --protocol serf starts Serf-mode agents
(`rumor agent --protocol serf`).

A variant's value is the executable, optionally followed by |NAME=VALUE environment settings.
"""
import argparse
import collections
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procstat import cpu_seconds, rss_mib, thread_switches  # noqa: E402  (scripts/procstat.py, found from any working directory)


def wait_http(url, bound=120):
    start = time.monotonic()
    while time.monotonic() - start < bound:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def start_agents(label, executable, env, base, count, protocol):
    processes = []
    for k in range(count):
        gossip, api = base + k, base + 100 + k
        args = [executable, "agent", "--name", f"{label}-{k}", "--bind", f"127.0.0.1:{gossip}", "--http", f"127.0.0.1:{api}", "--preset", "lan", "--log-level", "warning", "--protocol", protocol]
        if k > 0:
            args += ["--join", f"127.0.0.1:{base}"]
        processes.append(subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{api}/v1/members")
    return processes


def summarize_counters(path):
    import csv
    series = collections.defaultdict(list)
    try:
        with open(path) as f:
            for row in csv.reader(f):
                if len(row) >= 5 and row[0] != "Timestamp":
                    try:
                        series[row[2]].append(float(row[4]))
                    except ValueError:
                        pass
    except FileNotFoundError:
        print("    (no counters written)")
        return
    for name, values in sorted(series.items()):
        if any(word in name for word in ("alloc", "timer", "work_item", "Allocation", "Timer", "Work Item", "gc.collections", "GC Count", "thread_pool.thread", "ThreadPool Thread", "working_set", "Working Set", "heap")):
            print(f"    {name:<60} last {values[-1]:>14,.1f}   mean {sum(values) / len(values):>14,.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", required=True, help="LABEL=EXECUTABLE[|NAME=VALUE...]")
    parser.add_argument("--settle", type=float, default=15)
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--base-port", type=int, default=27000)
    parser.add_argument("--agents", type=int, default=3, help="agents per variant, joined into one cluster (default 3; 1: a lone agent)")
    parser.add_argument("--protocol", default="rumor", choices=["rumor", "serf"], help="the agents' wire dialect (default rumor)")
    parser.add_argument("--counters", action="store_true", help="afterwards, read each agent 1's System.Runtime counters for the same window with dotnet-counters (installed with dotnet tool install -g dotnet-counters)")
    options = parser.parse_args()
    running = []
    try:
        for i, variant in enumerate(options.variant):
            label, spec = variant.split("=", 1)
            executable, *settings = spec.split("|")
            env = dict(s.split("=", 1) for s in settings)
            running.append((label, start_agents(label, executable, env, options.base_port + 200 * i, options.agents, options.protocol)))
        time.sleep(options.settle)
        watched = min(1, options.agents - 1)
        before = {}
        for label, processes in running:
            pid = processes[watched].pid
            before[label] = (thread_switches(pid), cpu_seconds(pid))
            before[label + "/all"] = [(sum(s for _, s in thread_switches(p.pid).values()), cpu_seconds(p.pid)) for p in processes]
        start = time.monotonic()
        time.sleep(options.window)
        elapsed = time.monotonic() - start
        print(f"window {elapsed:.1f} s, load {os.getloadavg()[0]:.1f}")
        for label, processes in running:
            pid = processes[watched].pid
            after = thread_switches(pid)
            cpu, rss = cpu_seconds(pid), rss_mib(pid)
            by_name = collections.Counter()
            for tid, (name, switches) in after.items():
                by_name[name] += switches - before[label][0].get(tid, (name, 0))[1]
            total = sum(by_name.values())
            print(f"{label}: cpu {100 * (cpu - before[label][1]) / elapsed:.2f} % ({cpu - before[label][1]:.2f} CPU-s), wakeups {total / elapsed:.1f}/s, threads {len(after)}, rss {rss:.0f} MiB")
            for name, count in by_name.most_common():
                if count > 0:
                    print(f"    {name:<24} {count / elapsed:7.2f}/s")
            if len(processes) > 1:
                # Whole-process switches for every agent (threads that ended in the window are missed).
                total_switches = total_cpu = 0.0
                for p, (switches0, cpu0) in zip(processes, before[label + "/all"]):
                    total_switches += sum(s for _, s in thread_switches(p.pid).values()) - switches0
                    total_cpu += cpu_seconds(p.pid) - cpu0
                n = len(processes)
                print(f"    mean of {n} agents: cpu {100 * total_cpu / n / elapsed:.2f} % ({total_cpu / n:.2f} CPU-s each), wakeups {total_switches / n / elapsed:.1f}/s")
        if options.counters:
            # A second window: an EventPipe session wakes the process itself, so not during the first.
            sessions = []
            for label, processes in running:
                out = f"/tmp/idle-agent-{label}-{os.getpid()}.csv"
                tool = os.path.expanduser("~/.dotnet/tools/dotnet-counters")
                sessions.append((label, out, subprocess.Popen([tool, "collect", "-p", str(processes[watched].pid), "--counters", "System.Runtime", "--refresh-interval", "5",
                                                               "--duration", f"00:00:{int(options.window):02d}", "--format", "csv", "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            for label, out, session in sessions:
                session.wait(timeout=options.window + 60)
                print(f"{label}: System.Runtime over {options.window:.0f} s (dotnet-counters, 5 s refresh)")
                summarize_counters(out)
    finally:
        for _, processes in running:
            for process in processes:
                process.terminate()
        for _, processes in running:
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    main()
