#!/usr/bin/env python3
"""Real-socket scale run over `rumor cluster` (docs/BENCHMARKS.md, "Many nodes in one process").

For each N: starts `rumor cluster --nodes N` (one process, N nodes with their own UDP and TCP
sockets on 127.0.0.1, consecutive ports), waits for its "converged" line, then through its HTTP API
sets a key on node 1, sends an event from node 2 and waits until every node has both, kills node
N-2 and waits until every survivor declared it failed; finally measures idle traffic over a quiet
window (datagrams with 28 bytes of IPv4 + UDP header each, plus stream payload) and the process's
CPU, threads and resident memory. With --repeat R it sets R keys, sends R events and kills R
nodes, one at a time, and prints each sample and their means. Prints one line of JSON per N and a
Markdown table.

    python3 scripts/cluster-scale.py --rumor src/Rumor.Cli/bin/Release/net10.0/rumor --nodes 100,500,1000
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procstat import cpu_seconds, rss_mib, thread_count  # noqa: E402  (scripts/procstat.py, found from any working directory)


def http(method, url, body=None):
    request = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def proc_stat(pid):
    return cpu_seconds(pid), thread_count(pid), rss_mib(pid)  # utime + stime, threads, VmRSS


def health_delta(a, b):
    """What the nodes' detectors and queues did between two traffic reads (sums over every node, a
    killed one as of its kill, so a difference is exact)."""
    before, after = a.get("health") or {}, b.get("health") or {}
    return {k: after[k] - before.get(k, 0) for k in after}


def gc_read(api):
    """The process's GC counters (`/v1/cluster/process`); None from a binary without that endpoint."""
    try:
        return http("GET", f"{api}/v1/cluster/process")
    except urllib.error.HTTPError:
        return None


def gc_delta(a, b):
    """Collections per generation and pause time between two GC reads."""
    if a is None or b is None:
        return None
    return {k: round(b[k] - a[k], 1) for k in ("gen0Collections", "gen1Collections", "gen2Collections", "gcPauseMs")}


def wait_for(what, condition, bound):
    start = time.monotonic()
    while time.monotonic() - start < bound:
        value = condition()
        if value is not None:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"{what}: not within {bound} s")


def run(rumor, n, port, http_port, preset, idle_seconds, bound, settle_seconds=5, windows=1, repeat=1):
    api = f"http://127.0.0.1:{http_port}"
    args = [rumor, "cluster", "--nodes", str(n), "--bind", f"127.0.0.1:{port}", "--http", f"127.0.0.1:{http_port}",
            "--preset", preset, "--converge-timeout", f"{bound}s"]
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result = {"nodes": n, "preset": preset}
    try:
        for line in process.stdout:
            sys.stderr.write(f"  [{n}] {line}")
            if line.startswith("converged") or line.startswith("not converged"):
                break
        summary = http("GET", f"{api}/v1/cluster")
        result["start_s"] = round(summary["joinStartedAtMs"] / 1000, 2)
        result["joins_failed"] = summary["joinsFailed"]
        if summary.get("convergedAtMs") is None:
            result["converge_s"] = None
            return result
        result["converge_s"] = round((summary["convergedAtMs"] - summary["joinStartedAtMs"]) / 1000, 2)
        result["process_start_to_converged_s"] = round(time.monotonic() - started, 2)
        result["cpu_to_converged_s"] = round(proc_stat(process.pid)[0], 1)  # the process's user + system CPU from its start
        result["gc_to_converged"] = gc_delta({"gen0Collections": 0, "gen1Collections": 0, "gen2Collections": 0, "gcPauseMs": 0}, gc_read(api))

        # Idle window first (after convergence settles): traffic and CPU of N idle nodes. With
        # --windows K the idle time is cut into K equal windows, each with its own rate, to show
        # whether the traffic is still falling (the joins' broadcasts draining) or level.
        time.sleep(settle_seconds)
        t0 = http("GET", f"{api}/v1/cluster/traffic")
        gc0 = gc_read(api)
        cpu0, _, _ = proc_stat(process.pid)
        w0 = time.monotonic()
        marks = [t0]
        for _ in range(windows):
            time.sleep(idle_seconds / windows)
            marks.append(http("GET", f"{api}/v1/cluster/traffic"))
        t1 = marks[-1]
        gc1 = gc_read(api)
        cpu1, threads, rss = proc_stat(process.pid)

        def rate(a, b):
            return round((b["datagramBytesWithHeaders"] - a["datagramBytesWithHeaders"] + b["streamPayloadBytes"] - a["streamPayloadBytes"]) / ((b["atMs"] - a["atMs"]) / 1000) / n, 1)

        window = (t1["atMs"] - t0["atMs"]) / 1000
        result["settle_s"] = settle_seconds
        result["idle_bytes_per_node_s"] = rate(t0, t1)
        if windows > 1:
            result["idle_bytes_per_node_s_by_window"] = [rate(a, b) for a, b in zip(marks, marks[1:])]
        result["idle_datagram_bytes_per_node_s"] = round((t1["datagramBytesWithHeaders"] - t0["datagramBytesWithHeaders"]) / window / n, 1)
        result["idle_datagrams_per_node_s"] = round((t1["datagrams"] - t0["datagrams"]) / window / n, 2)
        result["idle_streams_per_node_s"] = round((t1["streams"] - t0["streams"]) / window / n, 3)
        result["idle_cpu_percent"] = round(100 * (cpu1 - cpu0) / (time.monotonic() - w0), 1)
        result["idle_health"] = health_delta(t0, t1)
        result["gen0_budget_bytes"] = gc1.get("gen0BudgetBytes") if gc1 else None
        result["idle_gc"] = gc_delta(gc0, gc1)
        result["threads"] = threads
        result["rss_mib"] = round(rss)

        # Spread of a key and an event, then detection of a kill; with --repeat R, R of each, one at
        # a time (key r on node 1 + r, event r from node 2 + r, victims N-2, N-3, ...), so the
        # figures are a small distribution rather than one sample.
        samples = {name: [] for name in ("key_first_s", "key_all_s", "event_first_s", "event_all_s", "suspect_first_s", "dead_first_s", "dead_all_s")}
        for r in range(repeat):
            key_name = "scale/key" if r == 0 else f"scale/key-{r}"
            event_name = "scale-event" if r == 0 else f"scale-event-{r}"
            http("PUT", f"{api}/v1/nodes/{1 + r}/kv/{key_name}", b"value")
            http("POST", f"{api}/v1/nodes/{2 + r}/event/{event_name}", b"payload")
            key = wait_for("key spread", lambda: (s := http("GET", f"{api}/v1/cluster/spread/kv/node-{1 + r}/{key_name}")).get("allMs") is not None and s or None, bound)
            event = wait_for("event spread", lambda: (s := http("GET", f"{api}/v1/cluster/spread/event/{event_name}")).get("allMs") is not None and s or None, bound)
            samples["key_first_s"].append(round(key["firstMs"] / 1000, 2))
            samples["key_all_s"].append(round(key["allMs"] / 1000, 2))
            samples["event_first_s"].append(round(event["firstMs"] / 1000, 2))
            samples["event_all_s"].append(round(event["allMs"] / 1000, 2))
        victims = [n - 2 - r for r in range(repeat)]
        before_kills = http("GET", f"{api}/v1/cluster/traffic")
        gc_before_kills = gc_read(api)
        for victim in victims:
            http("POST", f"{api}/v1/nodes/{victim}/kill")
            dead = wait_for("detection", lambda: (s := http("GET", f"{api}/v1/cluster/spread/dead/node-{victim}")).get("allMs") is not None and s or None, bound)
            suspect = http("GET", f"{api}/v1/cluster/spread/suspect/node-{victim}")
            samples["suspect_first_s"].append(round(suspect["firstMs"] / 1000, 2) if suspect.get("firstMs") is not None else None)
            samples["dead_first_s"].append(round(dead["firstMs"] / 1000, 2))
            samples["dead_all_s"].append(round(dead["allMs"] / 1000, 2))
        result["detect_health"] = health_delta(before_kills, http("GET", f"{api}/v1/cluster/traffic"))
        result["detect_gc"] = gc_delta(gc_before_kills, gc_read(api))
        for name, values in samples.items():
            result[name] = values[0] if repeat == 1 else values
            measured = [v for v in values if v is not None]
            if repeat > 1 and measured:
                result[name.removesuffix("_s") + "_mean_s"] = round(sum(measured) / len(measured), 2)
        # A live node some view declared dead, at any time since the start: when the first view did
        # (seconds since the joins began), so a false verdict in the join can be told from one later.
        false_dead = [s for i in range(n) if i not in victims
                      if (s := http("GET", f"{api}/v1/cluster/spread/dead/node-{i}"))["reached"] > 0]
        result["false_failures"] = len(false_dead)
        result["false_failures_first_s"] = sorted(round((s["firstAtMs"] - summary["joinStartedAtMs"]) / 1000, 1) for s in false_dead)[:20]
        after = http("GET", f"{api}/v1/cluster")
        result["converged_after_kill"] = after["converged"]
        return result
    finally:
        process.terminate()
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
        result["exit_code"] = process.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rumor", required=True, help="the rumor executable (or a script running it)")
    parser.add_argument("--nodes", default="100,500,1000")
    parser.add_argument("--port", type=int, default=20000)
    parser.add_argument("--http-port", type=int, default=7400)
    parser.add_argument("--preset", default="lan")
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--settle-seconds", type=float, default=5, help="wait after convergence before the idle window")
    parser.add_argument("--windows", type=int, default=1, help="cut the idle time into this many windows, each with its own rate")
    parser.add_argument("--repeat", type=int, default=1, help="keys, events and kills measured, one at a time (each a sample)")
    parser.add_argument("--bound", type=int, default=600, help="seconds allowed for each step")
    options = parser.parse_args()
    results = []
    for n in [int(x) for x in options.nodes.split(",")]:
        load = os.getloadavg()[0]
        result = run(options.rumor, n, options.port, options.http_port, options.preset, options.idle_seconds, options.bound, options.settle_seconds, options.windows, options.repeat)
        result["load_before"] = round(load, 1)
        result["load_after"] = round(os.getloadavg()[0], 1)
        print(json.dumps(result), flush=True)
        results.append(result)
    columns = list(results[0].keys())
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for r in results:
        print("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")


if __name__ == "__main__":
    main()
