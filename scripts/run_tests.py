#!/usr/bin/env python3
"""Runs the workspace's test binaries two at a time (`cargo test` runs them
one after the other), then the doc tests.

Several of the slow binaries run on the clock: a browser's camera plays at
its own rate, a fleet's faults and a load run follow a schedule, webhooks
wait for their retries. They leave much of the machine idle (in CI the
browser's binary kept one core of two busy), and a second binary beside them
uses what they leave. The clock's binaries run one at a time and at normal
priority; every other binary runs under `nice`, so that beside a clock's
binary it takes only the CPU time that binary leaves, and the clock's
timing is what it is when it runs alone.

Each binary runs as `cargo test` would run it (from its package's
directory, with the CARGO_* variables cargo sets); its output is printed
whole when it ends, under cargo's own `Running` line, so the log reads as
cargo's does.

    python3 scripts/run_tests.py [--jobs N] [CARGO TEST ARGS...]

CARGO TEST ARGS select the build (`--profile ci --workspace --all-features`
in scripts/test.sh); every binary runs, failing or not, and the exit status
is 1 when any binary or the doc tests failed. Longest first, by the
durations of the last run (target/<profile>/test-durations.json) or, on a
fresh checkout, by the estimates below. A timing table ends the output.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

# Seconds each slow binary took in CI (2 cores): the order on a fresh
# checkout. Anything missing counts as 5 s.
ESTIMATES = {
    "realface/dataset": 165,
    "realface-server/web": 140,
    "realface/challenge": 105,
    "realface-server/fleet": 86,
    "realface-server/web_device": 74,
    "realface-server/load": 53,
    "realface/liveness_data": 44,
    "realface-server/flow": 37,
}
# The clock's binaries (see above): one at a time, never under `nice`.
CLOCK = {
    "realface-server/web",
    "realface-server/web_device",
    "realface-server/fleet",
    "realface-server/load",
    "realface-server/webhooks",
    "realface-server/crash",
}
# How much lower the other binaries' priority is.
NICE = 10


def test_binaries(cargo_args):
    """(key, source path, executable, package dir, package name) of every
    test binary the build makes, building them first."""
    cmd = ["cargo", "test", *cargo_args, "--no-run", "--message-format=json-render-diagnostics"]
    built = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if built.returncode != 0:
        raise SystemExit(f"run_tests: `{' '.join(cmd)}` failed (status {built.returncode})")
    out = built.stdout
    found = []
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            continue
        target = msg["target"]
        pkg_dir = Path(msg["manifest_path"]).parent
        package = msg["package_id"]
        name = package_name(package, pkg_dir)
        try:
            src = str(Path(target["src_path"]).relative_to(pkg_dir))
        except ValueError:
            src = target["src_path"]
        # a package's lib and a binary may share a name (realface's do):
        # only integration tests go by the name alone
        kinds = target.get("kind", [])
        key = f"{name}/{target['name']}"
        if "test" not in kinds:
            key += f" ({'/'.join(kinds)})"
        found.append((key, src, msg["executable"], pkg_dir, name))
    return found


def package_name(package_id, pkg_dir):
    """The package's name: from `name@version` or `path+file://...#name@version`
    package ids, else the manifest's directory."""
    tail = package_id.rsplit("#", 1)[-1]
    if "@" in tail:
        return tail.split("@", 1)[0]
    if " " in package_id:
        return package_id.split(" ", 1)[0]
    return pkg_dir.name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("REALFACE_TEST_JOBS", "2")))
    args, cargo_args = ap.parse_known_args()
    profile = "debug"
    for i, a in enumerate(cargo_args):
        if a == "--profile" and i + 1 < len(cargo_args):
            profile = cargo_args[i + 1]
        elif a.startswith("--profile="):
            profile = a.split("=", 1)[1]
        elif a == "--release":
            profile = "release"
    binaries = test_binaries(cargo_args)
    record = Path("target") / profile / "test-durations.json"
    try:
        last = json.loads(record.read_text())
    except (OSError, ValueError):
        last = {}
    expected = lambda b: last.get(b[0], ESTIMATES.get(b[0], 5))
    queue = sorted(binaries, key=expected, reverse=True)

    lock = threading.Condition()
    running_clock = [0]
    results = {}
    print_lock = threading.Lock()

    def take():
        """The next binary this worker may run, or None when none is left."""
        with lock:
            while True:
                if not queue:
                    return None
                for i, b in enumerate(queue):
                    if b[0] not in CLOCK or running_clock[0] == 0:
                        queue.pop(i)
                        if b[0] in CLOCK:
                            running_clock[0] += 1
                        return b
                lock.wait()

    def done(b):
        with lock:
            if b[0] in CLOCK:
                running_clock[0] -= 1
            lock.notify_all()

    def run(b):
        key, src, exe, pkg_dir, name = b
        env = dict(os.environ)
        env.update(
            CARGO_MANIFEST_DIR=str(pkg_dir),
            CARGO_PKG_NAME=name,
            CARGO_CRATE_NAME=name.replace("-", "_"),
        )
        # as cargo does: the build's own libraries first on the search path
        deps = Path(exe).resolve().parent
        search = [str(deps), str(deps.parent), env.get("LD_LIBRARY_PATH", "")]
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in search if p)
        t0 = time.monotonic()
        cmd = [exe] if key in CLOCK else ["nice", "-n", str(NICE), exe]
        p = subprocess.run(cmd, cwd=pkg_dir, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        secs = time.monotonic() - t0
        with print_lock:
            print(f"     Running {src} ({os.path.relpath(exe)}) [{name}]", flush=True)
            sys.stdout.write(p.stdout)
            if p.returncode != 0:
                print(f"run_tests: {key} FAILED (exit status {p.returncode})", flush=True)
            sys.stdout.flush()
        results[key] = (p.returncode, secs)

    def worker():
        while True:
            b = take()
            if b is None:
                return
            try:
                run(b)
            finally:
                done(b)

    t0 = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(max(1, args.jobs))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.monotonic() - t0

    doc_t0 = time.monotonic()
    doc = subprocess.run(["cargo", "test", *cargo_args, "--doc"])
    results["doc tests"] = (doc.returncode, time.monotonic() - doc_t0)

    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({k: round(s, 1) for k, (_, s) in results.items()}, indent=1))
    except OSError:
        pass
    print(f"run_tests: {len(binaries)} binaries in {wall:.0f} s on {args.jobs} lanes "
          f"({sum(s for k, (_, s) in results.items() if k != 'doc tests'):.0f} s one after the other)")
    print("  seconds  status  binary")
    for key, (rc, secs) in sorted(results.items(), key=lambda kv: -kv[1][1]):
        print(f"  {secs:7.1f}  {'ok' if rc == 0 else 'FAILED':6}  {key}")
    failed = [k for k, (rc, _) in results.items() if rc != 0]
    if failed:
        print("run_tests: failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
