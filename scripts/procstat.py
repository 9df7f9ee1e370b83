"""Readers of /proc for the measuring scripts (agent-footprint.py, idle-agent.py, cluster-startup.py,
cluster-scale.py): a process's CPU time, memory and context switches, read without a tracer.

The scripts import it from their own directory: each puts that directory first on sys.path, so
`python3 scripts/X.py` works from any working directory.
"""
import os
import re

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses):
    index 0 is the state, 11 and 12 utime and stime, 17 the thread count."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _status(path):
    with open(path) as f:
        return f.read()


def _switches(status):
    """Voluntary + involuntary context switches in a status file's text."""
    return int(re.search(r"\bvoluntary_ctxt_switches:\s+(\d+)", status).group(1)) + int(re.search(r"nonvoluntary_ctxt_switches:\s+(\d+)", status).group(1))


def cpu_seconds(pid):
    """utime + stime (/proc/PID/stat), in seconds: sampled by the kernel at each clock tick."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_exact_seconds(pid):
    """Time on CPU of every live thread, in nanoseconds from the scheduler (/proc/PID/task/TID/schedstat),
    exact rather than sampled at each clock tick as utime and stime are (threads that already exited
    are missing; the agent keeps the ones it starts)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def thread_count(pid):
    """The process's threads (/proc/PID/stat, num_threads)."""
    return int(_stat_fields(pid)[17])


def memory_mib(pid, keys=("VmRSS", "RssAnon", "RssFile")):
    """The named sizes of /proc/PID/status, in MiB."""
    status = _status(f"/proc/{pid}/status")
    return {key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) / 1024 for key in keys}


def rss_mib(pid):
    """VmRSS (/proc/PID/status), in MiB."""
    return memory_mib(pid, ("VmRSS",))["VmRSS"]


def switches(pid):
    """The process's voluntary + involuntary context switches (/proc/PID/status)."""
    return _switches(_status(f"/proc/{pid}/status"))


def thread_switches(pid):
    """{tid: (thread name, voluntary + involuntary context switches)} of every live thread
    (/proc/PID/task/TID/comm and status); threads that exit while being read are left out."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = _status(f"/proc/{pid}/task/{tid}/comm").strip()
            found[tid] = (name, _switches(_status(f"/proc/{pid}/task/{tid}/status")))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found
