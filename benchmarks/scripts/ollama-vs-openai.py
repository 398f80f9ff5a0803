#!/usr/bin/env python3
"""Ollama's /api/generate (raw) vs OpenAI's /v1/completions on one `infera serve`, one request at a time, interleaved.

Reports per API the medians of time to first token, request time and the server process's CPU time per generated
token (from /proc, so it is the server's own work whatever else runs on the machine), and the paired ratios.
Usage: dotnet build src/Infera.Cli -c Release && python3 benchmarks/scripts/ollama-vs-openai.py [ROUNDS]
"""
import json, os, re, statistics as st, subprocess, sys, threading, time, urllib.request

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
exe = os.path.join(root, "src/Infera.Cli/bin/Release/net10.0/infera")
model = os.path.join(os.environ.get("INFERA_TEST_MODELS", os.path.join(root, "../shared/models")), "stories260K-gqa")
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
tokens = 200

server = subprocess.Popen([exe, "serve", "--model", model, "--port", "0", "--model-id", "m"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
url = None
for line in server.stderr:
    match = re.search(r"at (http://127\.0\.0\.1:\d+)/v1", line)
    if match:
        url = match.group(1)
        break
threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
tick = os.sysconf("SC_CLK_TCK")


def server_cpu():
    fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def request(path, body, marker):
    started = time.perf_counter()
    response = urllib.request.urlopen(urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}))
    first, count = None, 0
    for line in response:
        if marker in line:
            count += 1
            if first is None:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started, count


apis = {
    "openai": lambda: request("/v1/completions", {"model": "m", "prompt": "Once upon a time", "max_tokens": tokens, "temperature": 0, "stream": True}, b'"text":"'),
    "ollama": lambda: request("/api/generate", {"model": "m", "prompt": "Once upon a time", "raw": True, "options": {"num_predict": tokens, "temperature": 0}}, b'"response":"'),
}
try:
    for _ in range(3):
        for call in apis.values():
            call()
    results = {name: [] for name in apis}
    for r in range(rounds):
        for name in (list(apis) if r % 2 == 0 else list(reversed(apis))):
            cpu = server_cpu()
            first, total, count = apis[name]()
            results[name].append((first, total, (server_cpu() - cpu) / max(count, 1)))
finally:
    server.kill()

cpus = open("/proc/cpuinfo").read()
flags = sorted(set(re.findall(r"\b(avx2|avx512[a-z_0-9]*)\b", cpus)))
cpu_name = re.search(r"model name\s*:\s*(.*)", cpus).group(1)
print(f"{cpu_name}, {os.cpu_count()} CPUs, {' '.join(flags)}; load average {os.getloadavg()[0]:.1f}")
for name, values in results.items():
    print(f"{name}: time to first token {st.median(v[0] for v in values) * 1e3:.2f} ms, request {st.median(v[1] for v in values) * 1e3:.2f} ms, "
          f"server CPU {st.mean(v[2] for v in values) * 1e6:.0f} us/token ({rounds} requests of {tokens} tokens)")
pairs = list(zip(results["ollama"], results["openai"]))
print(f"ollama/openai paired medians: time to first token {st.median(a[0] / b[0] for a, b in pairs):.3f}, "
      f"request time {st.median(a[1] / b[1] for a, b in pairs):.3f}, server CPU {st.mean(a[2] for a, _ in pairs) / st.mean(b[2] for _, b in pairs):.3f}")
