#!/usr/bin/env python3
"""One-shot start of the infera tool: wall and processor time of whole processes, several builds alternated.

Each build runs the same command (default: the README's one-shot generate on stories260K-onnx, 200 tokens) in turn,
ROUNDS times after two warm-up runs each; the medians and minima of wall time and of the process's own user+system
time (os.wait4) are printed with the machine's CPU, instruction sets and load average.
Usage: python3 benchmarks/scripts/one-shot.py [--rounds N] NAME=EXECUTABLE [NAME=EXECUTABLE ...]
  e.g. native=$HOME/.dotnet/tools/infera portable=src/Infera.Cli/bin/Release/net10.0/infera
"""
import os, re, statistics as st, subprocess, sys, time

args = sys.argv[1:]
rounds = 20
if args[:1] == ["--rounds"]:
    rounds, args = int(args[1]), args[2:]
builds = [a.split("=", 1) for a in args]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
model = os.path.join(os.environ.get("INFERA_TEST_MODELS", os.path.join(root, "../shared/models")), "stories260K-onnx")
command = ["generate", "--model", model, "--prompt", "Once upon a time", "--max-tokens", "200"]

cpuinfo = open("/proc/cpuinfo").read()
name = re.search(r"model name\s*:\s*(.*)", cpuinfo).group(1)
flags = sorted(set(re.findall(r"\b(avx512[a-z_0-9]*|avx2|avx_vnni|amx[a-z_0-9]*)\b", cpuinfo)))
print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} x {name}; {' '.join(flags)}; load {os.getloadavg()[0]:.2f}")
print("command: infera " + " ".join(command))


def run(exe):
    started = time.perf_counter()
    process = subprocess.Popen([exe] + command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        sys.exit(f"{exe} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime


for _, exe in builds:
    run(exe)
    run(exe)
results = {label: [] for label, _ in builds}
for _ in range(rounds):
    for label, exe in builds:
        results[label].append(run(exe))
print(f"{'build':<12}{'wall median':>13}{'wall min':>10}{'cpu median':>12}{'cpu min':>9}   ({rounds} runs each, alternated; load now {os.getloadavg()[0]:.2f})")
for label, values in results.items():
    walls, cpus = [w for w, _ in values], [c for _, c in values]
    print(f"{label:<12}{st.median(walls):>12.3f}s{min(walls):>9.3f}s{st.median(cpus):>11.3f}s{min(cpus):>8.3f}s")
