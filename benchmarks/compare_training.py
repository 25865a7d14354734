#!/usr/bin/env python3
"""dlmc's train step against PyTorch, torch.compile, JAX and Keras 3, measured in one run.

    pip install -r benchmarks/requirements.txt
    python3 benchmarks/compare_training.py [--threads 2] [--budget 3] [--rounds 1] [--scratch-path .build]
                                           [--peers torch,torch-compile,jax,keras-jax,keras-tf] [--only MODEL]

One optimiser step per batch of 32 — forward, loss, backward, Adam update
(lr 1e-3, β 0.9/0.999, ε 1e-7: Keras's defaults, which dlmc follows) — of
the four benchmark models: the MLP 784-128-10 and MNIST CNN A (their own
train blocks: sparse categorical cross-entropy, from logits for the MLP, on
the softmax output for the CNN), and the GRU and LSTM classifiers (T = 100;
runtime-bench adds a train block with sparse categorical cross-entropy from
logits).

1. `runtime-bench --train --json` times dlmc's JIT (first step: a cold
   compile, then one from the compile cache) and its interpreter;
2. every peer runs in its own process (so that thread pools and Keras
   backends do not mix), starting from the same weights (`dlmc init --seed 0`)
   on the same batch (features from SplitMix64 seed 42 as in
   compare_runtime.py, class ids from seed 7): PyTorch eager (fused CPU
   Adam), torch.compile (model and optimiser step compiled; a fresh inductor
   cache, so its first step is a cold compile), JAX (`jax.jit` of
   value_and_grad plus optax Adam, buffers donated) and Keras 3's
   `train_on_batch` on the JAX and on the TensorFlow backend;
3. it prints trainable parameter counts side by side, the losses of the first
   five steps against dlmc's (step 1 is the forward pass alone and agrees to
   float32 rounding, within 1e-4; later steps within 1e-2: Keras agrees
   exactly, while PyTorch and optax add Adam's ε after the bias correction,
   about 3e-4 apart after four updates), the first-step (compile) times, and
   the median ms per step with the ratio dlmc JIT / fastest peer (below 1:
   dlmc faster).

Every framework gets the same thread count: DLMC_THREADS, torch.set_num_threads,
TF's intra-op threads, OMP/MKL/OpenBLAS variables, and, when fewer threads
than cores are asked for, a CPU affinity of that many cores (XLA sizes its
pool from the cores it may use). Each step returns its loss as a host scalar,
so asynchronous runtimes (JAX) are timed to completion. Medians exclude the
first step and three warm-up steps; `--rounds N` repeats everything N times
in turn and reports the median of the rounds' medians with their spread. The
machines are shared and noisy: only ratios measured in the same run mean
anything. Each framework's run waits for a quiet machine and is rerun
(`--retries`) when other processes used more than `--max-background` cores
on average while it ran (/proc/stat less this script's and its children's
CPU time); what they used is printed. Exit status 1 if a parameter count or
a loss disagrees. Nothing here is needed to build or test dlmc.
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_runtime import SplitMix64  # noqa: E402  (bit-for-bit DLMRuntime's RandomSource)

BATCH = 32
SEQUENCE = 100
CLASSES = 10
LR, BETA1, BETA2, EPSILON = 1e-3, 0.9, 0.999, 1e-7
RECORDED_LOSSES = 5

MODELS = [
    # name, .dlm file, features shape, vocabulary of integer ids, loss from logits (else on softmax probabilities)
    ("mlp", "examples/mlp.dlm", (BATCH, 784), None, True),
    ("cnn", "examples/mnist_cnn_a.dlm", (BATCH, 28, 28, 1), None, False),
    ("gru", "benchmarks/models/gru_classifier.dlm", (BATCH, SEQUENCE), 10000, True),
    ("lstm", "benchmarks/models/lstm_classifier.dlm", (BATCH, SEQUENCE, 32), None, True),
]
FROM_LOGITS = {name: logits for name, _, _, _, logits in MODELS}

PEERS = {
    "torch": "PyTorch eager",
    "torch-compile": "torch.compile",
    "jax": "JAX jit",
    "keras-jax": "Keras/JAX",
    "keras-tf": "Keras/TF",
}


def features(shape, vocabulary):
    """runtime-bench's inputs: RandomSource(seed: 42), floats in [0, 1) or ids below the vocabulary."""
    random = SplitMix64(42)
    count = int(np.prod(shape))
    if vocabulary:
        return np.array([random.next() % vocabulary for _ in range(count)], dtype=np.int32).reshape(shape)
    return np.array([random.unit() for _ in range(count)], dtype=np.float32).reshape(shape)


def targets():
    """runtime-bench's class ids: RandomSource(seed: 7), next() % classes."""
    random = SplitMix64(7)
    return np.array([random.next() % CLASSES for _ in range(BATCH)], dtype=np.int32)


def time_steps(step, budget, iterations, warmup=3):
    """First-step ms, median and min ms of the timed steps, their count, and the first losses."""
    start = time.perf_counter()
    losses = [step()]
    first = (time.perf_counter() - start) * 1e3
    for _ in range(warmup):
        losses.append(step())
    times = []
    deadline = time.perf_counter() + budget
    while len(times) < iterations and (len(times) < 10 or time.perf_counter() < deadline):
        start = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - start) * 1e3)
        if len(losses) < RECORDED_LOSSES:
            losses.append(loss)
    return {"first_step_ms": first, "ms": statistics.median(times), "min_ms": min(times), "steps_timed": len(times),
            "losses": [float(v) for v in losses[:RECORDED_LOSSES]]}


# ---------------------------------------------------------------- PyTorch

def torch_setup(name, w, x, y, compiled):
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in w.items()}

    def linear(prefix, weight=None):
        weight = t[f"{prefix}.weight"] if weight is None else weight
        layer = torch.nn.Linear(weight.shape[0], weight.shape[1])
        with torch.no_grad():
            layer.weight.copy_(weight.T)  # dlmc [in, out] -> PyTorch [out, in]
            layer.bias.copy_(t[f"{prefix}.bias"])
        return layer

    if name == "mlp":
        model = torch.nn.Sequential(linear("dense1"), torch.nn.ReLU(), linear("dense2"))
    elif name == "cnn":
        layers = []
        for i, pool in ((1, True), (2, True), (3, False)):
            kernel = t[f"conv{i}.weight"]  # HWIO
            conv = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], 3)
            with torch.no_grad():
                conv.weight.copy_(kernel.permute(3, 2, 0, 1))  # -> OIHW
                conv.bias.copy_(t[f"conv{i}.bias"])
            layers += [conv, torch.nn.ReLU()] + ([torch.nn.MaxPool2d(2)] if pool else [])
        # dlmc flattens NHWC (h, w, c); PyTorch's NCHW flattens (c, h, w): reorder dense1's rows to match.
        rows = t["dense1.weight"].reshape(3, 3, 64, 64).permute(2, 0, 1, 3).reshape(576, 64)
        layers += [torch.nn.Flatten(), linear("dense1", rows), torch.nn.ReLU(), linear("dense2"), torch.nn.Softmax(dim=-1)]
        model = torch.nn.Sequential(*layers)
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # the data in PyTorch's layout, once, outside the step
    elif name == "gru":
        units = t["gru1.recurrent_weight"].shape[0]
        # Keras gate order z, r, h; PyTorch's r, z, n. Both reset after the recurrent matmul, with two biases.
        order = lambda m: torch.cat([m[..., units:2 * units], m[..., :units], m[..., 2 * units:]], dim=-1)

        class GRU(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = torch.nn.Embedding.from_pretrained(t["embedding1.weight"].clone(), freeze=False)
                self.gru = torch.nn.GRU(128, units, batch_first=True)
                with torch.no_grad():
                    self.gru.weight_ih_l0.copy_(order(t["gru1.weight"]).T)
                    self.gru.weight_hh_l0.copy_(order(t["gru1.recurrent_weight"]).T)
                    self.gru.bias_ih_l0.copy_(order(t["gru1.bias"][0]))
                    self.gru.bias_hh_l0.copy_(order(t["gru1.bias"][1]))
                self.dense = linear("dense1")

            def forward(self, tokens):
                _, h = self.gru(self.embedding(tokens))
                return self.dense(h[0])

        model = GRU()
        x = x.astype(np.int64)
    else:
        units = t["lstm1.recurrent_weight"].shape[0]

        class LSTM(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = torch.nn.LSTM(32, units, batch_first=True)  # same gate order (i, f, g, o) as Keras
                with torch.no_grad():
                    self.lstm.weight_ih_l0.copy_(t["lstm1.weight"].T)
                    self.lstm.weight_hh_l0.copy_(t["lstm1.recurrent_weight"].T)
                    self.lstm.bias_ih_l0.copy_(t["lstm1.bias"])
                    self.lstm.bias_hh_l0.zero_()
                # Keras's LSTM has one bias; PyTorch's second one stays at zero and is not trained.
                self.lstm.bias_hh_l0.requires_grad_(False)
                self.dense = linear("dense1")

            def forward(self, x):
                _, (h, _) = self.lstm(x)
                return self.dense(h[0])

        model = LSTM()

    xs, ys = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    trainable = [p for p in model.parameters() if p.requires_grad]
    # Eager uses the fused CPU kernel (PyTorch's fastest; the default for-loop Adam is several times slower on
    # the GRU's 1.3M-value embedding); torch.compile compiles the default optimizer's step instead.
    optimizer = torch.optim.Adam(trainable, lr=LR, betas=(BETA1, BETA2), eps=EPSILON, **({} if compiled else {"fused": True}))

    def loss_of(output):
        if FROM_LOGITS[name]:
            return F.cross_entropy(output, ys)
        # Keras's cross-entropy on probabilities: renormalise, clip to [ε, 1-ε], log.
        p = (output / output.sum(dim=-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -torch.log(p.gather(1, ys[:, None])).mean()

    forward = torch.compile(model) if compiled else model
    update = torch.compile(optimizer.step) if compiled else optimizer.step

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(forward(xs))
        loss.backward()
        update()
        return loss.item()

    return step, sum(p.numel() for p in trainable)


# ---------------------------------------------------------------- JAX

def jax_setup(name, w, x, y):
    import jax
    import jax.numpy as jnp
    import optax
    from jax import lax

    params = {k: jnp.asarray(v) for k, v in w.items()}

    def dense(p, prefix, h):
        return h @ p[f"{prefix}.weight"] + p[f"{prefix}.bias"]

    def mlp(p, x):
        return dense(p, "dense2", jax.nn.relu(dense(p, "dense1", x)))

    def cnn(p, x):
        h = x
        for i, pool in ((1, True), (2, True), (3, False)):
            h = lax.conv_general_dilated(h, p[f"conv{i}.weight"], (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = jax.nn.relu(h + p[f"conv{i}.bias"])
            if pool:
                h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        h = h.reshape(h.shape[0], -1)
        return jax.nn.softmax(dense(p, "dense2", jax.nn.relu(dense(p, "dense1", h))), axis=-1)

    def gru(p, tokens):
        e = p["embedding1.weight"][tokens]                       # [B, T, F]
        projected = e @ p["gru1.weight"] + p["gru1.bias"][0]     # input projections of every step at once
        u, b = p["gru1.recurrent_weight"], p["gru1.bias"][1]

        def cell(h, xt):  # Keras GRU, reset_after: gates z, r, h
            xz, xr, xh = jnp.split(xt, 3, axis=-1)
            hz, hr, hh = jnp.split(h @ u + b, 3, axis=-1)
            z, r = jax.nn.sigmoid(xz + hz), jax.nn.sigmoid(xr + hr)
            return z * h + (1 - z) * jnp.tanh(xh + r * hh), None

        h, _ = lax.scan(cell, jnp.zeros((e.shape[0], u.shape[0]), e.dtype), jnp.swapaxes(projected, 0, 1))
        return dense(p, "dense1", h)

    def lstm(p, x):
        projected = x @ p["lstm1.weight"] + p["lstm1.bias"]
        u = p["lstm1.recurrent_weight"]

        def cell(carry, xt):  # Keras LSTM: gates i, f, c, o
            h, c = carry
            i, f, g, o = jnp.split(xt + h @ u, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            return (jax.nn.sigmoid(o) * jnp.tanh(c), c), None

        zeros = jnp.zeros((x.shape[0], u.shape[0]), x.dtype)
        (h, _), _ = lax.scan(cell, (zeros, zeros), jnp.swapaxes(projected, 0, 1))
        return dense(p, "dense1", h)

    forward = {"mlp": mlp, "cnn": cnn, "gru": gru, "lstm": lstm}[name]

    def loss_fn(p, x, y):
        output = forward(p, x)
        if FROM_LOGITS[name]:
            log_p = jax.nn.log_softmax(output, axis=-1)
        else:
            log_p = jnp.log(jnp.clip(output / output.sum(axis=-1, keepdims=True), 1e-7, 1 - 1e-7))
        return -jnp.take_along_axis(log_p, y[:, None], axis=1).mean()

    optimizer = optax.adam(LR, b1=BETA1, b2=BETA2, eps=EPSILON)

    def train_step(p, state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, state = optimizer.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss

    train_step = jax.jit(train_step, donate_argnums=(0, 1))
    xs, ys = jnp.asarray(x), jnp.asarray(y)
    box = {"params": params, "state": optimizer.init(params)}

    def step():
        box["params"], box["state"], loss = train_step(box["params"], box["state"], xs, ys)
        return float(loss)  # waits for the step

    return step, sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(params))


# ---------------------------------------------------------------- Keras 3

def keras_setup(name, w, x, y):
    import keras

    L = keras.layers
    if name == "mlp":
        model = keras.Sequential([keras.Input((784,)), L.Dense(128, activation="relu"), L.Dense(10)])
        weights = [["dense1.weight", "dense1.bias"], ["dense2.weight", "dense2.bias"]]
    elif name == "cnn":
        model = keras.Sequential([keras.Input((28, 28, 1)),
                                  L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                                  L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
                                  L.Conv2D(64, 3, activation="relu"), L.Flatten(),
                                  L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
        weights = [["conv1.weight", "conv1.bias"], [], ["conv2.weight", "conv2.bias"], [], ["conv3.weight", "conv3.bias"], [],
                   ["dense1.weight", "dense1.bias"], ["dense2.weight", "dense2.bias"]]
    elif name == "gru":
        model = keras.Sequential([keras.Input((SEQUENCE,), dtype="int32"), L.Embedding(10000, 128), L.GRU(128), L.Dense(10)])
        weights = [["embedding1.weight"], ["gru1.weight", "gru1.recurrent_weight", "gru1.bias"], ["dense1.weight", "dense1.bias"]]
    else:
        model = keras.Sequential([keras.Input((SEQUENCE, 32)), L.LSTM(128), L.Dense(10)])
        weights = [["lstm1.weight", "lstm1.recurrent_weight", "lstm1.bias"], ["dense1.weight", "dense1.bias"]]
    for layer, names in zip(model.layers, weights):
        if names:
            layer.set_weights([w[n] for n in names])  # Keras's layouts are dlmc's
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR, beta_1=BETA1, beta_2=BETA2, epsilon=EPSILON),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=FROM_LOGITS[name]))

    def step():
        loss = model.train_on_batch(x, y)
        return float(loss[0] if isinstance(loss, (list, tuple)) else loss)

    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    return step, trainable, {"jit_compile": bool(model.jit_compile)}


# ---------------------------------------------------------------- one peer, in its own process

def peer_main(args):
    threads = args.threads
    if args.peer.startswith("keras"):
        os.environ["KERAS_BACKEND"] = "jax" if args.peer == "keras-jax" else "tensorflow"
    if args.peer == "keras-tf":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.peer.startswith("torch"):
        import torch
        torch.set_num_threads(threads)
    versions = {}
    results = {}
    for name, _, _, _, _ in MODELS:
        if args.only and name != args.only:
            continue
        data = np.load(os.path.join(args.data, f"{name}.npz"))
        w = {k[2:]: data[k] for k in data.files if k.startswith("w:")}
        x, y = data["x"], data["y"]
        extra = {}
        try:
            if args.peer in ("torch", "torch-compile"):
                step, count = torch_setup(name, w, x, y, compiled=args.peer == "torch-compile")
            elif args.peer == "jax":
                step, count = jax_setup(name, w, x, y)
            else:
                step, count, extra = keras_setup(name, w, x, y)
            result = time_steps(step, args.budget, args.iterations)
            result.update(trainable_parameters=count, **extra)
        except Exception as error:  # reported in the table, not hidden
            result = {"error": f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"}
        results[name] = result
    if args.peer.startswith("torch"):
        import torch
        versions["torch"] = torch.__version__
        versions["torch_threads"] = torch.get_num_threads()
    elif args.peer == "jax":
        import jax
        import optax
        versions.update(jax=jax.__version__, optax=optax.__version__, devices=str(jax.devices()))
    else:
        import keras
        versions.update(keras=keras.__version__, backend=keras.backend.backend())
        if args.peer == "keras-tf":
            import tensorflow as tf
            versions["tensorflow"] = tf.__version__
        else:
            import jax
            versions["jax"] = jax.__version__
    with open(args.out, "w") as f:
        json.dump({"results": results, "versions": versions}, f)


# ---------------------------------------------------------------- the comparison

def busy_cores_seconds():
    """CPU time all processes on the machine have used (in core-seconds), from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def our_cpu_seconds():
    """CPU time of this process and the children it has waited for."""
    import resource
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def wait_for_quiet(limit, timeout, window=2.0):
    """Waits (at most `timeout` s) until other processes use at most `limit` cores over a `window`; returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before, ours = busy_cores_seconds(), our_cpu_seconds()
        time.sleep(window)
        if (busy_cores_seconds() - before - (our_cpu_seconds() - ours)) / window <= limit:
            break
    return time.perf_counter() - started


def run(command, **kwargs):
    return subprocess.run(command, cwd=ROOT, check=True, text=True, capture_output=True, **kwargs).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--budget", type=float, default=3.0, help="seconds of timed steps per model and framework")
    parser.add_argument("--iterations", type=int, default=1000, help="at most this many timed steps")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run dlmc and every peer this many times, in turn, and report the median of the rounds' medians")
    parser.add_argument("--max-background", type=float, default=0.15,
                        help="rerun a framework whose run overlapped other processes using more cores than this on average")
    parser.add_argument("--retries", type=int, default=2, help="reruns allowed per framework and round for a busy machine")
    parser.add_argument("--quiet-timeout", type=float, default=120, help="seconds to wait for a quiet machine before each run")
    parser.add_argument("--scratch-path", default=".build", help="SwiftPM scratch path for building runtime-bench and dlmc")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated: " + ", ".join(PEERS))
    parser.add_argument("--only", help="one model: mlp, cnn, gru or lstm")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--peer", help=argparse.SUPPRESS)  # internal: run one peer in this process
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        return peer_main(args)

    cores = sorted(os.sched_getaffinity(0))
    if args.threads < len(cores):
        os.sched_setaffinity(0, cores[:args.threads])  # inherited by runtime-bench and every peer
    n = str(args.threads)
    scratch_path = os.path.join(ROOT, args.scratch_path) if not os.path.isabs(args.scratch_path) else args.scratch_path
    if not args.skip_build:
        for product in ("runtime-bench", "dlmc"):
            run(["swift", "build", "-c", "release", "--scratch-path", scratch_path, "--product", product])
    bench = os.path.join(scratch_path, "release", "runtime-bench")
    dlmc = os.path.join(scratch_path, "release", "dlmc")
    peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {', '.join(PEERS)}")
    models = [m for m in MODELS if not args.only or m[0] == args.only]
    names = [m[0] for m in models]
    load_before = os.getloadavg()

    ours_rounds = []
    theirs_rounds = {p: [] for p in peers}
    background_load = {}
    versions = {}
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, DLMC_THREADS=n, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n,
                   TF_NUM_INTRAOP_THREADS=n, TF_NUM_INTEROP_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2")
        # The same weights and batch for every framework.
        from safetensors.numpy import load_file
        for name, path, shape, vocabulary, _ in models:
            weights = os.path.join(scratch, f"{name}.safetensors")
            run([dlmc, "init", path, "--seed", "0", "--output", weights])
            arrays = {f"w:{k}": v for k, v in load_file(weights).items()}
            np.savez(os.path.join(scratch, f"{name}.npz"), x=features(shape, vocabulary), y=targets(), **arrays)

        def measured(label, command, round_index, extra_env=None):
            """Runs one framework's process after waiting for a quiet machine; reruns it (up to --retries times)
            when other processes used more than --max-background cores on average while it ran."""
            for attempt in range(args.retries + 1):
                waited = wait_for_quiet(args.max_background, timeout=args.quiet_timeout)
                before_busy, before_ours, started = busy_cores_seconds(), our_cpu_seconds(), time.perf_counter()
                error = None
                try:
                    output = run(command, env=dict(env, **(extra_env(attempt) if extra_env else {})))
                except subprocess.CalledProcessError as failure:
                    output, error = failure.stdout or "", failure
                wall = time.perf_counter() - started
                background = max(0.0, (busy_cores_seconds() - before_busy) - (our_cpu_seconds() - before_ours)) / wall
                print(f"round {round_index + 1}: {label} took {wall:.0f} s (waited {waited:.0f} s for a quiet machine; "
                      f"other processes used {background:.2f} cores)", file=sys.stderr)
                if error is not None or background <= args.max_background or attempt == args.retries:
                    background_load.setdefault(label, []).append(background)
                    return output, error
                print(f"round {round_index + 1}: {label} again: the machine was busy", file=sys.stderr)

        for round_index in range(args.rounds):
            # dlmc first, then each peer in turn, all in this run.
            ours_path = os.path.join(scratch, "dlmc.json")
            command = [bench, "--train", "--json", ours_path, "--budget", str(args.budget), "--iterations", str(args.iterations)]
            if args.only:
                command += ["--only", args.only]
            output, error = measured("dlmc", command, round_index)
            if error is not None:
                print(output + (error.stderr or ""), file=sys.stderr)
                raise error
            if round_index == 0:
                print(output, end="")
            with open(ours_path) as f:
                ours_rounds.append({row["model"]: row for row in json.load(f)})
            for peer in peers:
                out = os.path.join(scratch, f"{peer}.json")
                command = [sys.executable, os.path.abspath(__file__), "--peer", peer, "--data", scratch, "--out", out,
                           "--threads", n, "--budget", str(args.budget), "--iterations", str(args.iterations)]
                if args.only:
                    command += ["--only", args.only]
                # torch.compile's first step is a cold compile in the first round (as dlmc's is): a fresh inductor cache per attempt.
                inductor = lambda attempt: {"TORCHINDUCTOR_CACHE_DIR": os.path.join(
                    scratch, f"inductor-{attempt}" if round_index == 0 else "inductor-warm")}
                _, error = measured(PEERS[peer], command, round_index, inductor)
                if error is None:
                    with open(out) as f:
                        report = json.load(f)
                    theirs_rounds[peer].append(report["results"])
                    versions[peer] = report["versions"]
                else:
                    lines = (error.stderr or "").strip().splitlines()
                    theirs_rounds[peer].append({name: {"error": lines[-1] if lines else f"exit {error.returncode}"} for name in names})
    load_after = os.getloadavg()

    # Per model: the first round's figures (first step, losses), with each median replaced by the median over rounds.
    def combined(rounds, keys):
        result = dict(rounds[0])
        for key in keys:
            values = [r[key] for r in rounds if key in r]
            if values:
                result[key] = statistics.median(values)
                result[key + "_spread"] = max(values) / min(values)
        return result

    ours = {name: combined([r[name] for r in ours_rounds], ["jit_ms", "interp_ms"]) for name in names}
    theirs = {p: {name: combined([r.get(name, {}) for r in theirs_rounds[p]], ["ms"]) for name in names} for p in peers}

    print()
    print("versions: " + "; ".join(f"{PEERS[p]} " + ", ".join(f"{k} {v}" for k, v in versions[p].items()) for p in versions))
    print(f"threads {args.threads}; rounds {args.rounds}; 1-minute load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"(each run waits for a quiet machine and is rerun if other processes used over {args.max_background} cores)")
    print("other processes' average CPU use during each framework's runs (cores): "
          + ", ".join(f"{label} " + "/".join(f"{v:.2f}" for v in values) for label, values in background_load.items()))
    errors = sorted({(PEERS[p], m, r["error"]) for p in peers for rounds in theirs_rounds[p] for m, r in rounds.items() if "error" in r})

    # 1. The same model everywhere: trainable parameters.
    print()
    print("trainable parameters")
    print(f"{'model':6} {'dlmc':>9} " + " ".join(f"{PEERS[p]:>14}" for p in peers))
    mismatched = False
    for name in names:
        count = ours[name]["trainable_parameters"]
        cells = []
        for p in peers:
            other = theirs[p][name].get("trainable_parameters")
            mismatched |= other is not None and other != count
            cells.append(f"{'—' if other is None else other:>14}" if other in (None, count) else f"{str(other) + ' !':>14}")
        print(f"{name:6} {count:9d} " + " ".join(cells))

    # 2. The same training: the first losses from the same weights on the same batch. Step 1's loss is the
    # forward pass alone; later ones follow the updates, where PyTorch and optax add Adam's ε after the bias
    # correction (Keras and dlmc before it), which moves parameters with tiny gradients slightly differently.
    print()
    print(f"losses of steps 1-{RECORDED_LOSSES}: dlmc JIT's, and each framework's relative difference from them "
          f"at step 1 / the largest at steps 2-{RECORDED_LOSSES}")
    print(f"{'model':6} {'dlmc JIT losses':>40} {'interp':>17} " + " ".join(f"{PEERS[p]:>17}" for p in peers))
    diverged = False

    def differences(losses, reference):
        relative = [abs(a - b) / max(abs(b), 1e-12) for a, b in zip(losses, reference)]
        return relative[0], max(relative[1:], default=0.0)

    for name in names:
        reference = ours[name]["jit_losses"]
        cells = []
        for label, losses in [("interp", ours[name]["interp_losses"])] + [(p, theirs[p][name].get("losses")) for p in peers]:
            if losses is None:
                cells.append(f"{'—':>17}")
                continue
            first, later = differences(losses, reference)
            bad = first > 1e-4 or later > 1e-2
            diverged |= bad
            cells.append(f"{f'{first:.0e} / {later:.0e}' + (' !' if bad else ''):>17}")
        print(f"{name:6} {' '.join(f'{v:.4f}' for v in reference):>40} " + " ".join(cells))

    # 3. First step: dlmc's compile (cold / from the cache) and each framework's tracing and compilation.
    print()
    print("first step ms (tracing and compilation, first round; dlmc JIT: cold / from its compile cache)")
    print(f"{'model':6} {'dlmc JIT':>13} {'interp':>8} " + " ".join(f"{PEERS[p]:>14}" for p in peers))
    for name in names:
        row = ours[name]
        jit_first = f"{row['jit_first_step_ms']:.0f} / {row['jit_cached_first_step_ms']:.0f}"
        cells = [f"{theirs[p][name]['first_step_ms']:14.0f}" if "first_step_ms" in theirs[p][name] else f"{'—':>14}" for p in peers]
        print(f"{name:6} {jit_first:>13} {row['interp_first_step_ms']:8.0f} " + " ".join(cells))

    # 4. The figures: median ms per train step.
    print()
    print(f"train step, batch {BATCH}, Adam lr {LR:g}, {args.threads} threads: median ms per step (after 4 warm-up steps"
          + (f"; median of {args.rounds} rounds" if args.rounds > 1 else "")
          + "); JIT/best = dlmc JIT / fastest peer (below 1: dlmc faster)")
    print(f"{'model':6} {'dlmc JIT':>9} {'interp':>9} " + " ".join(f"{PEERS[p]:>14}" for p in peers)
          + f" {'best peer':>14} {'JIT/best':>9} {'JIT/interp':>10}")
    for name in names:
        row = ours[name]
        timed = {p: theirs[p][name]["ms"] for p in peers if "ms" in theirs[p][name]}
        cells = [f"{timed[p]:14.3f}" if p in timed else f"{'failed':>14}" for p in peers]
        best = min(timed, key=timed.get) if timed else None
        ratio = f"{row['jit_ms'] / timed[best]:9.2f}" if best else f"{'—':>9}"
        print(f"{name:6} {row['jit_ms']:9.3f} {row['interp_ms']:9.3f} " + " ".join(cells)
              + f" {PEERS[best] if best else '—':>14} {ratio} {row['jit_ms'] / row['interp_ms']:10.2f}")
    if args.rounds > 1:
        print("max/min of the rounds' medians (1.00: every round agreed)")
        for name in names:
            cells = [f"{theirs[p][name].get('ms_spread', float('nan')):14.2f}" for p in peers]
            print(f"{name:6} {ours[name]['jit_ms_spread']:9.2f} {ours[name]['interp_ms_spread']:9.2f} " + " ".join(cells))
    for peer, name, error in errors:
        print(f"{peer} failed on {name}: {error}")
    for p in peers:
        if p.startswith("keras"):
            flags = {name: theirs[p][name].get("jit_compile") for name in names}
            print(f"{PEERS[p]}: train function compiled with XLA (Keras's jit_compile=\"auto\"): {flags}")
    if mismatched or diverged:
        print("error: some framework's model or training differs from dlmc's (marked !)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
