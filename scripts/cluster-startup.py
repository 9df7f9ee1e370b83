#!/usr/bin/env python3
"""Where the time goes when N - 1 agents start at once and join agent 1 (docs/BENCHMARKS.md,
"Agent footprint", start-up of many agents at once), per agent, in figures the load changes least:

- CPU-seconds of each agent (its threads' time on CPU, /proc/PID/task/TID/schedstat) when its
  GET /v1/health first answers and when its GET /v1/members first lists N alive;
- the wall-clock times of both, from the launch of agents 2..N (these depend on the load);
- with RUMOR_STARTUP_TRACE=1 (set here), the agent's own start-up marks on standard error: each
  phase's milliseconds since the kernel started the process (main, configuration, host built,
  node started, first join answered, HTTP listening, ...), as medians over the agents;
- the context switches of each agent until convergence (waits and preemptions).

The same layout as the cluster benchmark (bench/Rumor.Benchmarks `cluster`): agent k on
127.0.X.k (X from --net, so it does not collide with a cluster benchmark on 127.0.0.k), `--preset
lan`, `--log-level warning`, every agent but the first `--join`s agent 1. Agents are polled over
kept HTTP connections every --poll seconds, health first, then members. Several variants run one
after the other, --runs times each, interleaved run by run. Examples:

    python3 scripts/cluster-startup.py --nodes 20 --variant main=/tmp/main/rumor --variant new=artifacts/rumor-linux-x64/rumor
    python3 scripts/cluster-startup.py --nodes 20 --variant "gen0=rumor|DOTNET_GCgen0size=0x100000"
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procstat import cpu_exact_seconds, switches  # noqa: E402  (scripts/procstat.py, found from any working directory)


class Agent:
    def __init__(self, k, executable, env, net, gossip, api, nodes, join, logdir):
        self.k = k
        self.host = f"127.0.{net}.{k}"
        self.api = api
        self.nodes = nodes
        args = [executable, "agent", "--name", f"startup-{k}", "--bind", f"{self.host}:{gossip}", "--http", f"{self.host}:{api}", "--preset", "lan", "--log-level", "warning"]
        if join:
            args += ["--join", f"127.0.{net}.1:{gossip}"]
        self.stderr_path = os.path.join(logdir, f"agent-{k}.err")
        self.stderr = open(self.stderr_path, "w")
        self.launched = time.monotonic()
        self.process = subprocess.Popen(args, env={**os.environ, **env, "RUMOR_STARTUP_TRACE": "1"}, stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.healthy = self.converged = None
        self.cpu_healthy = self.cpu_converged = None
        self.switches_converged = None

    def _get(self, connection, path):
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return response.status, body

    def watch(self, poll, bound):
        """Polls health, then members, until N alive (or the bound)."""
        deadline = self.launched + bound
        connection = None
        while time.monotonic() < deadline and self.converged is None:
            if self.process.poll() is not None:
                raise RuntimeError(f"agent {self.k} exited with {self.process.returncode}; see {self.stderr_path}")
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(self.host, self.api, timeout=5)
                if self.healthy is None:
                    status, _ = self._get(connection, "/v1/health")
                    if status == 200:
                        self.cpu_healthy = cpu_exact_seconds(self.process.pid)
                        self.healthy = time.monotonic()
                        continue
                else:
                    status, body = self._get(connection, "/v1/members")
                    if status == 200:
                        members = json.loads(body)
                        if isinstance(members, dict):
                            members = members.get("members", [])
                        alive = sum(1 for m in members if str(m.get("status", m.get("state", ""))).lower() == "alive")
                        if alive >= self.nodes:
                            self.cpu_converged = cpu_exact_seconds(self.process.pid)
                            self.switches_converged = switches(self.process.pid)
                            self.converged = time.monotonic()
                            return
            except (OSError, http.client.HTTPException, ValueError):
                if connection is not None:
                    connection.close()
                connection = None
            time.sleep(poll)

    def marks(self):
        found = {}
        with open(self.stderr_path) as f:
            for line in f:
                match = re.match(r"rumor startup: (.+) \+([\d.]+) ms", line)
                if match:
                    found.setdefault(match.group(1), float(match.group(2)))
        return found

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.stderr.close()


def run_once(label, executable, env, options, logdir):
    gossip, api = options.base_port, options.base_port + 1
    first = Agent(1, executable, env, options.net, gossip, api, 1, False, logdir)
    agents = [first]
    try:
        first.watch(options.poll, options.bound)
        first.nodes = options.nodes
        first.healthy = first.converged = None  # watched again below, until it lists N alive
        load = os.getloadavg()[0]
        launch = time.monotonic()
        others = [Agent(k, executable, env, options.net, gossip, api, options.nodes, True, logdir) for k in range(2, options.nodes + 1)]
        agents += others
        threads = [threading.Thread(target=a.watch, args=(options.poll, options.bound)) for a in agents]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if any(a.converged is None for a in agents):
            raise TimeoutError(f"{label}: not every agent saw {options.nodes} alive within {options.bound} s")
        marks = [a.marks() for a in others]
        phases = []
        for m in marks:
            for phase in m:
                if phase not in phases:
                    phases.append(phase)
        result = {
            "load": load,
            "health_wall": statistics.median(a.healthy - launch for a in others),
            "health_wall_max": max(a.healthy - launch for a in others),
            "converged_wall": max(a.converged - launch for a in agents),
            "cpu_healthy": statistics.median(a.cpu_healthy for a in others),
            "cpu_converged": statistics.median(a.cpu_converged for a in others),
            "cpu_total": sum(a.cpu_converged for a in others),
            "switches": statistics.median(a.switches_converged for a in others),
            "phases": {p: statistics.median(m[p] for m in marks if p in m) for p in phases},
            "first_cpu_converged": first.cpu_converged - first.cpu_healthy,
        }
        return result
    finally:
        for a in agents:
            a.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", required=True, help="LABEL=EXECUTABLE[|NAME=VALUE...]")
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--net", type=int, default=77, help="agents on 127.0.NET.k (default 77)")
    parser.add_argument("--base-port", type=int, default=27946)
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between polls of one agent (default 0.02, as the cluster benchmark)")
    parser.add_argument("--bound", type=float, default=120)
    options = parser.parse_args()
    variants = []
    for variant in options.variant:
        label, spec = variant.split("=", 1)
        executable, *settings = spec.split("|")
        variants.append((label, executable, dict(s.split("=", 1) for s in settings)))
    results = {label: [] for label, _, _ in variants}
    with tempfile.TemporaryDirectory(prefix="cluster-startup-") as logdir:
        for _ in range(options.runs):
            for label, executable, env in variants:
                results[label].append(run_once(label, executable, env, options, logdir))
                time.sleep(1)
    print(f"N = {options.nodes}: agents 2..N launched at once, joining agent 1; medians over agents, then over {options.runs} runs")
    for label, _, _ in variants:
        rs = results[label]

        def med(key):
            return statistics.median(r[key] for r in rs)

        print(f"{label}: load {min(r['load'] for r in rs):.2f}-{max(r['load'] for r in rs):.2f}; "
              f"CPU-s per agent at health {med('cpu_healthy'):.3f}, at convergence {med('cpu_converged'):.3f} "
              f"(all N-1 agents: {med('cpu_total'):.2f} CPU-s; agent 1 after the launch {med('first_cpu_converged'):.3f}); "
              f"context switches per agent {med('switches'):.0f}; "
              f"wall: health p50 {med('health_wall'):.2f} / max {med('health_wall_max'):.2f} s, converged {med('converged_wall'):.2f} s "
              f"(runs: {', '.join('%.2f' % r['converged_wall'] for r in rs)})")
        phases = []
        for r in rs:
            for p in r["phases"]:
                if p not in phases:
                    phases.append(p)
        print("    phases (ms since process start, median): " + "; ".join(
            f"{p} {statistics.median(r['phases'][p] for r in rs if p in r['phases']):.0f}" for p in phases))


if __name__ == "__main__":
    main()
