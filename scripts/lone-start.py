#!/usr/bin/env python3
"""CPU of one agent's start, alone (docs/BENCHMARKS.md, session 25): launches `BINARY agent` on
127.0.9.k (gossip 17946, HTTP 17373, `--preset lan`), polls GET /v1/health every 5 ms, and when it
first answers 200 reads the process's CPU time from its threads' schedstat (scripts/procstat.py),
then kills it. Variants take turns launch by launch; medians printed per variant. Every wait is
bounded (10 s per launch).

    python3 scripts/lone-start.py 15 old=/tmp/old/rumor new=artifacts/rumor-linux-x64/rumor
"""
import http.client
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procstat import cpu_exact_seconds  # noqa: E402


def one(binary, k):
    p = subprocess.Popen([binary, 'agent', '--name', f'lone{k}', '--bind', f'127.0.9.{k}:17946',
                          '--http', f'127.0.9.{k}:17373', '--preset', 'lan', '--log-level', 'warning'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    cpu = None
    try:
        while time.time() - t0 < 10:
            try:
                c = http.client.HTTPConnection(f'127.0.9.{k}', 17373, timeout=1)
                c.request('GET', '/v1/health')
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    cpu = cpu_exact_seconds(p.pid)
                    break
            except OSError:
                pass
            time.sleep(0.005)
    finally:
        p.kill()
        p.wait()
    if cpu is None:
        sys.exit(f'{binary}: no healthy API within 10 s')
    return cpu, time.time() - t0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    launches = int(sys.argv[1])
    variants = [a.split('=', 1) for a in sys.argv[2:]]
    results = {name: [] for name, _ in variants}
    for i in range(launches):
        for name, binary in variants:
            results[name].append(one(binary, 1 + i % 200))
    for name, _ in variants:
        cpus = [c for c, _ in results[name]]
        print(f'{name}: CPU-s at health median {statistics.median(cpus):.4f} (min {min(cpus):.4f}, max {max(cpus):.4f}) over {len(cpus)} launches')


if __name__ == '__main__':
    main()
