#!/usr/bin/env python3
"""Perplexity of stories260K with its linear layers rounded to 4 bits by several per-block rules and block sizes.

Each rule quantizes and dequantizes in float32 what the int4 conversion quantizes: every projection (wq, wk, wv, wo,
w1, w2, w3; rows along the input, as MatMulNBits blocks them) and the language-model head (written as an unshared
classifier, so the embedding table stays float32 as in the int4 graph). The result is converted at float32 (`infera
convert llama2c --precision fp32`) and scored with `infera eval perplexity` on the text docs/quantization.md uses. So
the rules are compared on the weights' rounding alone, with nothing else of the runtime in between (no int8 activations).
Rules (`code` is 0..15, `s` a float scale, `z` the zero point):
  sym      MLAS's symmetric rule, as the converter writes: s = m / -8 (m the value of largest magnitude), z = 8
  asym     MLAS's rule with zero points: s = (max(hi, 0) - min(lo, 0)) / 15, integer z
  sym-mse  sym with m shrunk by 0-19% where that lowers the block's squared error
  asym-mse asym with the range shrunk by 0-19% where that lowers the block's squared error
  sym-lp   sym with m scaled by 0.8-1.1 to lower the sum of |error|^0.7
  asym-lp  asym with the range scaled by 0.8-1.1 and z among its neighbours, lowering the sum of |error|^0.7
  hqq      half-quadratic zero point (HQQ, Badri & Shaji 2023: |error|^0.7 shrinkage, 20 steps): a FLOAT z, which
           ONNX Runtime's MatMulNBits accepts only without prepacking (it then dequantizes the weight on every call)
Usage: dotnet build src/Infera.Cli -c Release && python3 benchmarks/scripts/block-rounding.py [RULE:BLOCK ...]
"""
import array, json, math, os, re, struct, subprocess, sys, tempfile, time

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
exe = os.path.join(root, "src/Infera.Cli/bin/Release/net10.0/infera")
models = os.environ.get("INFERA_TEST_MODELS", os.path.join(root, "../shared/models"))
checkpoint = os.path.join(models, "stories260K", "stories260K.bin")
tokenizer = os.path.join(models, "stories260K", "tok512.bin")
text = os.path.join(root, "tests/Infera.ModelBuilder.Tests/Data/tinystories-style.txt")
variants = sys.argv[1:] or ["sym:32", "sym:64", "sym:128", "asym:128", "sym-mse:128", "asym-mse:128", "sym-lp:128",
                            "asym-lp:128", "hqq:128", "asym:32", "hqq:32"]


def rnd(x):  # C roundf: half away from zero, as MLAS and the converter round
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def codes(block, s, z):
    r = 1 / s
    return [(min(15, max(0, rnd(x * r + z))) - z) * s for x in block]


def sym(block, shrink=1.0):
    lo, hi = min(block), max(block)
    m = (hi if abs(hi) > abs(lo) else lo) * shrink
    return codes(block, m / -8, 8) if m else [0.0] * len(block)


def asym(block, shrink=1.0, dz=0):
    lo, hi = min(min(block), 0.0), max(max(block), 0.0)
    s = (hi - lo) * shrink / 15
    return codes(block, s, min(15, max(0, rnd(-lo * shrink / s) + dz))) if s else [0.0] * len(block)


def best(block, candidates, p):
    return min(candidates, key=lambda d: sum(abs(x - y) ** p for x, y in zip(block, d)))


def hqq(block, p=0.7, steps=20, beta=10.0, kappa=1.01):
    lo, hi = min(block), max(block)
    s = (hi - lo) / 15
    if not s:
        return list(block)
    z, found = -lo / s, None
    for _ in range(steps):
        q = [min(15, max(0, rnd(x / s + z))) for x in block]
        d = [(c - z) * s for c in q]
        err = [x - y for x, y in zip(block, d)]
        e = sum(abs(t) for t in err)
        if found is None or e < found[0]:
            found = (e, d)
        shrunk = [math.copysign(max(0.0, abs(t) - (abs(t) + 1e-8) ** (p - 1) / beta), t) for t in err]
        z = sum(c - (x - w) / s for c, x, w in zip(q, block, shrunk)) / len(block)
        beta *= kappa
    return found[1]


rules = {
    "sym": sym,
    "asym": asym,
    "sym-mse": lambda b: best(b, [sym(b, 1 - 0.01 * i) for i in range(20)], 2),
    "asym-mse": lambda b: best(b, [asym(b, 1 - 0.01 * i) for i in range(20)], 2),
    "sym-lp": lambda b: best(b, [sym(b, 1.1 - 0.0125 * i) for i in range(25)], 0.7),
    "asym-lp": lambda b: best(b, [asym(b, 1.1 - 0.0125 * i, dz) for i in range(25) for dz in (-1, 0, 1)], 0.7),
    "hqq": hqq,
}


def perplexity(folder):
    out = subprocess.run([exe, "eval", "perplexity", "--model", folder, "--text", text, "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["perplexity"]


data = open(checkpoint, "rb").read()
dim, hidden, layers, heads, kv_heads, vocab, seq = struct.unpack("7i", data[:28])
weights = array.array("f")
weights.frombytes(data[28:])
kv = dim * kv_heads // heads
sizes = [abs(vocab) * dim, layers * dim, layers * dim * dim, layers * kv * dim, layers * kv * dim, layers * dim * dim,
         layers * dim, layers * hidden * dim, layers * dim * hidden, layers * hidden * dim]
offsets = [sum(sizes[:i]) for i in range(len(sizes))]
# (offset, rows, row length) of wq, wk, wv, wo, w1, w2, w3 in llama2c's order
projections = [(offsets[2], dim, dim), (offsets[3], kv, dim), (offsets[4], kv, dim), (offsets[5], dim, dim),
               (offsets[7], hidden, dim), (offsets[8], dim, hidden), (offsets[9], hidden, dim)]



def rounded(source, start, k, rule, block):
    """Row source[start:start + k] by one rule, block by block (the last one shorter when k is not a multiple)."""
    return array.array("f", [v for b in range(0, k, block) for v in rules[rule](list(source[start + b:start + min(b + block, k)]))])


cpuinfo = open("/proc/cpuinfo").read()
name = re.search(r"model name\s*:\s*(.*)", cpuinfo).group(1)
print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} x {name}; stories260K {dim}x{hidden}x{layers}")
with tempfile.TemporaryDirectory() as work:
    def score(name, w, head=None):
        path = os.path.join(work, name + ".bin")
        header = data[:28] if head is None else struct.pack("7i", dim, hidden, layers, heads, kv_heads, -abs(vocab), seq)
        open(path, "wb").write(header + w.tobytes() + (b"" if head is None else head.tobytes()))
        folder = os.path.join(work, name)
        subprocess.run([exe, "convert", "llama2c", "--checkpoint", path, "--tokenizer", tokenizer, "--output", folder,
                        "--precision", "fp32"], check=True, capture_output=True)
        return perplexity(folder)

    reference = score("float32", weights)
    print(f"| rule | block | perplexity | vs float32 |\n| --- | ---: | ---: | ---: |\n| float32 | – | {reference:.4f} | – |")
    for variant in variants:
        rule, block = variant.split(":")
        block = int(block)
        w = array.array("f", weights)
        for offset, rows, k in projections:
            for r in range(layers * rows):
                w[offset + r * k:offset + (r + 1) * k] = rounded(weights, offset + r * k, k, rule, block)
        head = array.array("f", weights[:abs(vocab) * dim]) if vocab > 0 else array.array("f", weights[-abs(vocab) * dim:])
        if vocab < 0:
            w = w[:-abs(vocab) * dim]
        for r in range(abs(vocab)):
            head[r * dim:(r + 1) * dim] = rounded(head, r * dim, dim, rule, block)
        p = score(f"{rule}-{block}", w, head)
        print(f"| {rule} | {block} | {p:.4f} | {100 * (p / reference - 1):+.1f}% |", flush=True)
