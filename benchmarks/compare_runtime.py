#!/usr/bin/env python3
"""dlmc's JIT and interpreter against ONNX Runtime and PyTorch, measured in one run.

    pip install -r benchmarks/requirements.txt
    python3 benchmarks/compare_runtime.py [--threads 2] [--iterations 200]

For each benchmark model (MLP 784-128-10, MNIST CNN A, GRU classifier with
embedding 10000/128 and T = 100, LSTM 32→128 with T = 100) at batch 1 and 64:

1. `dlmc init` writes the model's weights (seed 0) and `runtime-bench --json`
   times dlmc's JIT (twice: with an empty compile cache, for the cold compile
   time, then with the cache filled) and its interpreter on inputs from a
   SplitMix64 stream (seed 42);
2. this script rebuilds the same network in PyTorch with those weights and the
   same inputs, checks that its outputs match `dlmc run`'s on both backends,
   then times PyTorch and ONNX Runtime (the PyTorch model exported to ONNX),
   with the same thread count for all;
3. it prints medians and the ratios JIT / best peer (below 1: dlmc is faster).

The machines are shared and noisy, so only ratios measured in the same run
mean anything. Nothing here is needed to build or test dlmc.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    # name, .dlm file, input name, shape(batch), vocabulary for integer ids
    ("mlp", "examples/mlp.dlm", "x", lambda b: (b, 784), None),
    ("cnn", "examples/mnist_cnn_a.dlm", "x", lambda b: (b, 28, 28, 1), None),
    ("gru", "benchmarks/models/gru_classifier.dlm", "tokens", lambda b: (b, 100), 10000),
    ("lstm", "benchmarks/models/lstm_classifier.dlm", "x", lambda b: (b, 100, 32), None),
]

MASK = (1 << 64) - 1


class SplitMix64:
    """Bit-for-bit the generator of DLMRuntime's RandomSource."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def unit(self):
        return (self.next() >> 11) * 2.0**-53


def bench_input(shape, vocabulary):
    """The inputs runtime-bench uses: RandomSource(seed: 42)."""
    random = SplitMix64(42)
    count = int(np.prod(shape))
    if vocabulary:
        return np.array([random.next() % vocabulary for _ in range(count)], dtype=np.int32).reshape(shape)
    return np.array([random.unit() for _ in range(count)], dtype=np.float32).reshape(shape)


def run(command, **kwargs):
    return subprocess.run(command, cwd=ROOT, check=True, text=True, capture_output=True, **kwargs).stdout


def median_ms(function, iterations, budget_seconds=5.0):
    for _ in range(5):
        function()
    times = []
    deadline = time.perf_counter() + budget_seconds
    while len(times) < iterations and (len(times) < 10 or time.perf_counter() < deadline):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def torch_model(name, weights):
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()}

    def dense(x, layer, activation=None):
        y = x @ t[f"{layer}.weight"] + t[f"{layer}.bias"]
        return activation(y) if activation else y

    class MLP(torch.nn.Module):
        def forward(self, x):
            return dense(dense(x, "dense1", torch.relu), "dense2")

    class CNN(torch.nn.Module):
        def forward(self, x):
            h = x.permute(0, 3, 1, 2)  # NHWC -> NCHW
            for i, pool in ((1, True), (2, True), (3, False)):
                w = t[f"conv{i}.weight"].permute(3, 2, 0, 1)  # HWIO -> OIHW
                h = torch.relu(F.conv2d(h, w, t[f"conv{i}.bias"]))
                if pool:
                    h = F.max_pool2d(h, 2)
            h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)  # flatten in NHWC order, as dlmc does
            return torch.softmax(dense(dense(h, "dense1", torch.relu), "dense2"), dim=-1)

    class GRU(torch.nn.Module):
        def __init__(self):
            super().__init__()
            units = t["gru1.recurrent_weight"].shape[0]
            self.gru = torch.nn.GRU(128, units, batch_first=True)
            # Keras gate order z, r, h; PyTorch's r, z, n.
            order = lambda m: torch.cat([m[..., units:2 * units], m[..., :units], m[..., 2 * units:]], dim=-1)
            with torch.no_grad():
                self.gru.weight_ih_l0.copy_(order(t["gru1.weight"]).T)
                self.gru.weight_hh_l0.copy_(order(t["gru1.recurrent_weight"]).T)
                self.gru.bias_ih_l0.copy_(order(t["gru1.bias"][0]))
                self.gru.bias_hh_l0.copy_(order(t["gru1.bias"][1]))

        def forward(self, tokens):
            _, h = self.gru(t["embedding1.weight"][tokens.long()])
            return dense(h[0], "dense1")

    class LSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            units = t["lstm1.recurrent_weight"].shape[0]
            self.lstm = torch.nn.LSTM(32, units, batch_first=True)
            with torch.no_grad():  # same gate order (i, f, g, o) in both
                self.lstm.weight_ih_l0.copy_(t["lstm1.weight"].T)
                self.lstm.weight_hh_l0.copy_(t["lstm1.recurrent_weight"].T)
                self.lstm.bias_ih_l0.copy_(t["lstm1.bias"])
                self.lstm.bias_hh_l0.zero_()

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return dense(h[0], "dense1")

    return {"mlp": MLP, "cnn": CNN, "gru": GRU, "lstm": LSTM}[name]().eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from safetensors.numpy import load_file

    torch.set_num_threads(args.threads)
    env = dict(os.environ, DLMC_THREADS=str(args.threads))
    run(["swift", "build", "-c", "release", "--product", "runtime-bench"])
    run(["swift", "build", "-c", "release", "--product", "dlmc"])
    dlmc = os.path.join(ROOT, ".build", "release", "dlmc")
    bench = os.path.join(ROOT, ".build", "release", "runtime-bench")

    def ours(backend, extra_env):
        rows = json.loads(run([bench, "--json", "--backend", backend, "--iterations", str(args.iterations)],
                              env=dict(env, **extra_env)).strip().splitlines()[-1])
        return {(row["model"], row["batch"]): row for row in rows}

    interp = ours("interp", {})
    with tempfile.TemporaryDirectory() as cache:
        cold = ours("jit", {"DLMC_CACHE_DIR": cache})
        jit = ours("jit", {"DLMC_CACHE_DIR": cache})

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, path, input_name, shape, vocabulary in CASES:
            weights_path = os.path.join(scratch, f"{name}.safetensors")
            run([dlmc, "init", path, "--seed", "0", "--output", weights_path])
            model = torch_model(name, load_file(weights_path))
            for batch in (1, 64):
                x = bench_input(shape(batch), vocabulary)
                # Correctness first: PyTorch must reproduce dlmc's outputs on these weights and inputs.
                x_path, out_path = os.path.join(scratch, "x.npy"), os.path.join(scratch, "out.npy")
                np.save(x_path, x)
                with torch.no_grad():
                    expected = model(torch.from_numpy(x)).numpy()
                error = 0.0
                for backend in ("jit", "interp"):
                    run([dlmc, "run", path, "--backend", backend, "--weights", weights_path, "--input", f"{input_name}={x_path}",
                         "--output", out_path], env=env)
                    difference = float(np.max(np.abs(np.load(out_path) - expected)))
                    assert difference < 1e-3, f"{name} b{batch}: dlmc ({backend}) and PyTorch differ by {difference}"
                    error = max(error, difference)

                with torch.no_grad():
                    torch_ms = median_ms(lambda: model(torch.from_numpy(x)), args.iterations)
                onnx_path = os.path.join(scratch, f"{name}_{batch}.onnx")
                torch.onnx.export(model, (torch.from_numpy(x),), onnx_path, input_names=[input_name], dynamo=False)
                options = ort.SessionOptions()
                options.intra_op_num_threads = args.threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
                feed = {session.get_inputs()[0].name: x}
                ort_ms = median_ms(lambda: session.run(None, feed), args.iterations)
                key = (name, batch)
                rows.append((name, batch, jit[key]["median_ms"], interp[key]["median_ms"], ort_ms, torch_ms, error,
                             cold[key]["compile_ms"], jit[key]["compile_ms"]))

    # sgemm through dlmc's GEMM path against NumPy's matmul, same sizes, same run.
    sgemm = json.loads(run([os.path.join(ROOT, ".build", "release", "runtime-bench"), "--json", "--sgemm", "--only", "none"],
                           env=env).strip().splitlines()[-1])
    print(f"sgemm (OpenBLAS kernels reported by dlmc doctor: {run([dlmc, 'doctor'], env=env).split('BLAS kernels:')[1].split()[0]})")
    if sgemm:
        print(f"measured f32 peak on {args.threads} threads: {sgemm[0]['peak_gflops']:.0f} GFLOPS")
    print(f"{'m×n×k':>20} {'interp GFLOPS':>14} {'JIT GFLOPS':>11} {'NumPy GFLOPS':>13} {'JIT/NumPy':>10} {'JIT/peak':>9}")
    for row in sgemm:
        m, n, k = row["m"], row["n"], row["k"]
        a = np.full((m, k), 0.5, dtype=np.float32); b = np.full((k, n), 0.25, dtype=np.float32)
        numpy_ms = median_ms(lambda: a @ b, 50, budget_seconds=2.0)
        numpy_gflops = 2 * m * n * k / (numpy_ms * 1e6)
        print(f"{f'{m}×{n}×{k}':>20} {row['gflops']:14.1f} {row['jit_gflops']:11.1f} {numpy_gflops:13.1f} "
              f"{row['jit_gflops'] / numpy_gflops:10.2f} {row['jit_gflops'] / row['peak_gflops']:9.2f}")
    print()
    print(f"threads {args.threads}; median ms; JIT/best = JIT / fastest peer (below 1: dlmc faster); compile ms cold / cached")
    print(f"{'model':6} {'batch':>5} {'JIT':>9} {'interp':>9} {'ORT':>9} {'torch':>9} {'JIT/best':>9} {'interp/ORT':>11} "
          f"{'compile':>15} {'max |diff|':>11}")
    for name, batch, mine, interpreted, ort_ms, torch_ms, error, cold_ms, cached_ms in rows:
        compile_text = f"{cold_ms:.0f} / {cached_ms:.1f}"
        print(f"{name:6} {batch:5d} {mine:9.3f} {interpreted:9.3f} {ort_ms:9.3f} {torch_ms:9.3f} {mine / min(ort_ms, torch_ms):9.2f} "
              f"{interpreted / ort_ms:11.2f} {compile_text:>15} {error:11.2e}")


if __name__ == "__main__":
    sys.exit(main())
