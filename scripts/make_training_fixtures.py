#!/usr/bin/env python3
"""Reference fixtures for the trainer, computed with real Keras 3 (JAX backend) and checked against NumPy.

    pip install -r scripts/requirements.txt
    python3 scripts/make_training_fixtures.py     # rewrites Tests/DLMTrainingTests/Fixtures/

Three safetensors files, read by the Swift tests in Tests/DLMTrainingTests (the
tests never run Python):

small_mlp.safetensors
    x f32[B,6] -> dense1(8, relu) -> dense2(4) logits, sparse categorical
    cross-entropy from logits, 12 samples in batches of 4 (no shuffle), one
    epoch of 3 steps under each optimiser configuration of OPTIMIZERS, plus an
    L2-regularised case and two learning-rate schedules.
losses.safetensors
    pred / target / value / d value / d pred of every Keras loss the trainer
    implements, including probability clipping.
mnist_mlp_adam.safetensors
    the reference 784-128-10 MLP, one epoch of 8 Adam steps on the first 256
    MNIST training images (dense1.weight only as a 1000-element sample).

Weights start from the "splitmix-fnv1a-v1" rule, taken verbatim from
scripts/make_fixtures.py (its `MASK`, `SplitMix64`, `fnv1a` and `parameter`
definitions are extracted with `ast` and executed here, so that file's PyTorch
import is not needed).

Every number comes from Keras itself: `Model.train_on_batch` (the jit-compiled
JAX train step) for losses and weights, `jax.grad` of the trainer's own
`compute_loss_and_updates` for gradients, and the `keras.losses` classes for
the loss cases. Each is then recomputed independently: hand-written NumPy
forward/backward passes and optimiser updates in float32 (within RTOL = 1e-6)
and float64 (within 1e-5: Keras's own float32 rounding), `Model.fit` over the
same data (the same weights as the train_on_batch loop), and the closed-form
loss gradients in float64 (within 1e-6). Deliberately wrong readings of Keras
(PyTorch's Adam epsilon, a global clipnorm, a schedule fed iterations + 1, ...)
must miss. The script stops on any failed check, and on a second in-process
generation that is not byte-identical.
"""

import ast
import gzip
import hashlib
import json
import math
import os
import struct
import sys

# Before JAX is imported: the backend, CPU only, single-threaded XLA (determinism).
os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import safetensors  # noqa: E402
import safetensors.numpy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "DLMTrainingTests", "Fixtures")
MNIST = os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")

# Cross-check tolerance, elementwise: |keras - reference| <= rtol * (|reference| + max|reference|), the max taken
# over the tensor (so an element that is ~0 by cancellation is held to the tensor's scale). RTOL against the
# float32 NumPy reference and the closed-form float64 loss gradients; 10 * RTOL against the float64 training
# reference (it measures Keras's own float32 rounding); LOOSE_RTOL for the one ill-conditioned tensor (MNIST
# dense1.weight, see make_mnist), of which only a well-conditioned sample is stored.
RTOL = 1e-6
LOOSE_RTOL = 1e-5
assert keras.backend.backend() == "jax", keras.backend.backend()
assert keras.config.floatx() == "float32" and keras.config.epsilon() == 1e-7


# --- splitmix-fnv1a-v1, from scripts/make_fixtures.py ----------------------------

def load_parameter_rule():
    """`parameter(name, shape)` exactly as scripts/make_fixtures.py defines it."""
    path = os.path.join(ROOT, "scripts", "make_fixtures.py")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    wanted = {"MASK", "SplitMix64", "fnv1a", "parameter"}
    body = [node for node in tree.body
            if (isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in wanted)
            or (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in wanted for t in node.targets))]
    found = {getattr(n, "name", None) or n.targets[0].id for n in body}
    assert found == wanted, f"make_fixtures.py no longer defines {wanted - found}"
    namespace = {"np": np, "math": math}
    exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), namespace)
    return namespace["parameter"]


parameter = load_parameter_rule()
MNIST_SAMPLE_POOL = None


def mlp_parameters(sizes):
    """splitmix-fnv1a-v1 values of dense1/dense2/... for layer sizes [in, h, ..., out]."""
    params = {}
    for i, (fin, fout) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        params[f"dense{i}.weight"] = parameter(f"dense{i}.weight", [fin, fout])
        params[f"dense{i}.bias"] = parameter(f"dense{i}.bias", [fout])
    return params


# --- safetensors, written by hand ---------------------------------------------------

def safetensors_bytes(tensors, metadata):
    """Little-endian F32/I32 tensors sorted by name, header JSON with sorted keys, padded
    with spaces to a multiple of 8. (safetensors.numpy.save orders `__metadata__` by
    a hash map, so its output is not byte-reproducible with more than one entry.)"""
    header = {"__metadata__": dict(metadata)}
    chunks, offset = [], 0
    for name in sorted(tensors):
        array = tensors[name]
        dtype = {np.float32: ("F32", "<f4"), np.int32: ("I32", "<i4")}[array.dtype.type]
        data = np.ascontiguousarray(array, dtype=dtype[1]).tobytes()
        header[name] = {"dtype": dtype[0], "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", len(text)) + text + b"".join(chunks)
    loaded = safetensors.numpy.load(blob)  # the reference reader must read back exactly what we meant
    assert sorted(loaded) == sorted(tensors)
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        assert loaded[name].tobytes() == array.tobytes(), name
    return blob


# --- checking -----------------------------------------------------------------------

WORST = {}  # "fixture / check" -> worst |keras - reference| / (|reference| + max|reference|) seen


def relative_error(actual, reference):
    actual = np.asarray(actual, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    assert actual.shape == reference.shape, (actual.shape, reference.shape)
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return np.abs(actual - reference) / (np.abs(reference) + scale + 1e-30)


def agree(family, label, actual, reference, rtol=RTOL):
    """Asserts elementwise agreement within rtol (see RTOL); records the worst error per family."""
    error = relative_error(actual, reference)
    worst = float(np.max(error)) if error.size else 0.0
    WORST[family] = max(WORST.get(family, 0.0), worst)
    if worst > rtol:
        at = np.unravel_index(np.argmax(error), error.shape)
        raise AssertionError(f"{family}: {label}: {np.asarray(actual)[at]!r} vs reference {np.asarray(reference)[at]!r} "
                             f"at {at}: relative error {worst:.3g} > {rtol:g}")


# --- Keras side -----------------------------------------------------------------------

OPTIMIZERS = {
    # name: (Keras optimiser factory, NumPy-reference hyper-parameters)
    "sgd": (lambda: keras.optimizers.SGD(learning_rate=0.1), dict(kind="sgd", lr=0.1)),
    "sgd_momentum": (lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                     dict(kind="sgd", lr=0.1, momentum=0.9)),
    "sgd_nesterov": (lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
                     dict(kind="sgd", lr=0.1, momentum=0.9, nesterov=True)),
    "rmsprop": (lambda: keras.optimizers.RMSprop(learning_rate=0.01), dict(kind="rmsprop", lr=0.01)),
    "rmsprop_momentum": (lambda: keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.9),
                         dict(kind="rmsprop", lr=0.01, momentum=0.9)),
    "adam": (lambda: keras.optimizers.Adam(learning_rate=0.01), dict(kind="adam", lr=0.01)),
    "adamw": (lambda: keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.004),
              dict(kind="adam", lr=0.01, weight_decay=0.004)),
    "adam_clipnorm": (lambda: keras.optimizers.Adam(learning_rate=0.01, clipnorm=0.1),
                      dict(kind="adam", lr=0.01, clipnorm=0.1)),
}
SCHEDULES = {
    "adam_expdecay": (lambda: keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.01, decay_steps=1, decay_rate=0.5)),
        dict(kind="adam", lr=lambda step: 0.01 * 0.5 ** (step / 1))),
    "adam_cosine": (lambda: keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.01, decay_steps=3)),
        dict(kind="adam", lr=lambda step: 0.01 * 0.5 * (1 + math.cos(math.pi * min(step, 3) / 3)))),
}


def keras_mlp(sizes, init, l2=None):
    """Sequential Dense stack named dense1, dense2, ...: relu on all but the last, logits out."""
    layers = [keras.Input((sizes[0],))]
    count = len(sizes) - 1
    for i, units in enumerate(sizes[1:], 1):
        regularizer = keras.regularizers.L2(l2) if (l2 is not None and i == 1) else None
        layers.append(keras.layers.Dense(units, activation="relu" if i < count else None,
                                         kernel_regularizer=regularizer, name=f"dense{i}"))
    model = keras.Sequential(layers)
    for i in range(1, count + 1):
        layer = model.get_layer(f"dense{i}")
        layer.kernel.assign(init[f"dense{i}.weight"])
        layer.bias.assign(init[f"dense{i}.bias"])
    return model


def keras_weights(model):
    out = {}
    for layer in model.layers:
        out[f"{layer.name}.weight"] = np.array(layer.kernel.numpy(), dtype=np.float32)
        out[f"{layer.name}.bias"] = np.array(layer.bias.numpy(), dtype=np.float32)
    return out


def keras_gradients(model, xb, yb):
    """jax.grad of the JAX trainer's own loss function (the one its train_step differentiates)."""
    variables = model.trainable_variables
    rename = {"kernel": "weight", "bias": "bias"}
    names = [f"{v.path.split('/')[-2]}.{rename[v.path.split('/')[-1]]}" for v in variables]  # sequential/dense1/kernel

    model.optimizer.build(variables)  # compute_loss_and_updates reads the (zero) optimiser state
    state = ([v.value for v in model.non_trainable_variables], [v.value for v in model.metrics_variables])
    optimizer_state = [v.value for v in model.optimizer.variables]

    def loss(trainable):
        value, _ = model.compute_loss_and_updates(trainable, *state, jnp.asarray(xb), jnp.asarray(yb), None,
                                                  training=True, optimizer_variables=optimizer_state)
        return value

    value, grads = jax.value_and_grad(loss)([v.value for v in variables])
    return np.float32(value), {n: np.array(g, dtype=np.float32) for n, g in zip(names, grads)}


def keras_run(sizes, init, x, y, batch, make_optimizer, l2=None):
    """One epoch, batch by batch with train_on_batch; returns losses, step-1 and epoch weights, step-1 grads."""
    model = keras_mlp(sizes, init, l2)
    model.compile(optimizer=make_optimizer(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    steps = len(x) // batch
    loss1, grads1 = keras_gradients(model, x[:batch], y[:batch])
    losses, step1 = [], None
    for s in range(steps):
        logs = model.train_on_batch(x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch], return_dict=True)
        losses.append(logs["loss"])
        if s == 0:
            step1 = keras_weights(model)
    assert int(model.optimizer.iterations.numpy()) == steps
    agree("train_on_batch loss vs the differentiated loss", "step 1", losses[0], loss1)
    epoch1 = keras_weights(model)

    # Second route through Keras: Model.fit over the whole data, in order.
    fitted = keras_mlp(sizes, init, l2)
    fitted.compile(optimizer=make_optimizer(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = fitted.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    for name, value in keras_weights(fitted).items():
        agree("Model.fit vs train_on_batch (weights)", name, value, epoch1[name])
    agree("Model.fit vs train_on_batch (epoch loss = mean of the step losses)", "epoch loss",
          history.history["loss"][0], np.mean(np.array(losses, dtype=np.float64)))
    return np.array(losses, dtype=np.float32), step1, epoch1, grads1


# --- the independent NumPy reference ---------------------------------------------------

def numpy_loss_and_grads(params, xb, yb, l2, dtype):
    """Forward and hand-written backward pass of the dense/relu stack with mean sparse CE from logits."""
    p = {k: v.astype(dtype) for k, v in params.items()}
    xb = xb.astype(dtype)
    count = len(p) // 2
    activations, pre = [xb], []
    h = xb
    for i in range(1, count + 1):
        z = h @ p[f"dense{i}.weight"] + p[f"dense{i}.bias"]
        pre.append(z)
        h = np.maximum(z, 0) if i < count else z
        activations.append(h)
    logits = h
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    n = len(yb)
    loss = -log_probs[np.arange(n), yb].sum() / dtype(n)
    delta = np.exp(log_probs)
    delta[np.arange(n), yb] -= 1
    delta /= dtype(n)
    grads = {}
    for i in range(count, 0, -1):
        grads[f"dense{i}.weight"] = activations[i - 1].T @ delta
        grads[f"dense{i}.bias"] = delta.sum(0)
        if i > 1:
            delta = (delta @ p[f"dense{i}.weight"].T) * (pre[i - 2] > 0)
    if l2 is not None:
        w = p["dense1.weight"]
        factor = dtype(np.float32(l2))  # Keras: ops.cast(self.l2, x.dtype) * ops.sum(ops.square(x))
        loss = loss + factor * (w * w).sum()
        grads["dense1.weight"] = grads["dense1.weight"] + 2 * factor * w
    return dtype(loss), grads


class NumpyOptimizer:
    """The Keras 3 update rules, written from their formulas (see scripts/README.md)."""

    def __init__(self, kind, lr, dtype, momentum=0.0, nesterov=False, rho=0.9, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, weight_decay=None, clipnorm=None, variant=None):
        self.kind, self.dtype = kind, dtype
        self.variant = variant  # a deliberately wrong reading of Keras, for the controls in semantic_controls()
        self.lr = lr if callable(lr) else (lambda step, lr=lr: lr)
        self.momentum, self.nesterov, self.rho = momentum, nesterov, rho
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.weight_decay, self.clipnorm = weight_decay, clipnorm
        self.iterations = 0
        self.slots = {}

    def apply(self, params, grads):
        d = self.dtype

        def c(value):  # Keras casts every hyper-parameter (a Python float) to the variable's float32 first
            return d(np.float32(value))

        lr = c(self.lr(self.iterations))  # the schedule sees the step count *before* this update
        t = self.iterations + 1
        new = {}
        for name in params:
            w, g = params[name].astype(d), grads[name].astype(d)
            if self.clipnorm and self.variant == "global clipnorm":
                norm = np.sqrt(sum((grads[k].astype(d) ** 2).sum() for k in grads))
                g = g * c(self.clipnorm) / max(norm, c(self.clipnorm))
            elif self.clipnorm:  # per variable
                norm = np.sqrt((g * g).sum())
                g = g * c(self.clipnorm) / max(norm, c(self.clipnorm))
            decay = self.weight_decay and not (self.variant == "no decay of biases" and name.endswith(".bias"))
            if decay and self.variant != "decay after the update":
                w = w - w * c(self.weight_decay) * lr  # decoupled, every variable, before the update
            s = self.slots.setdefault(name, {})
            if self.kind == "sgd":
                if self.momentum:
                    m = c(self.momentum) * s.get("m", 0) - lr * g
                    s["m"] = m
                    w = w + (c(self.momentum) * m - lr * g if self.nesterov else m)
                else:
                    w = w - lr * g
            elif self.kind == "rmsprop":
                v = c(self.rho) * s.get("v", 0) + c(1 - self.rho) * g * g
                s["v"] = v
                if self.variant == "eps outside the sqrt":
                    step = lr * g / (np.sqrt(v) + c(self.epsilon))
                else:
                    step = lr * g / np.sqrt(v + c(self.epsilon))
                if self.momentum:
                    s["m"] = c(self.momentum) * s.get("m", 0) + step
                    step = s["m"]
                w = w - step
            elif self.kind == "adam":
                m = c(self.beta_1) * s.get("m", 0) + c(1 - self.beta_1) * g
                v = c(self.beta_2) * s.get("v", 0) + c(1 - self.beta_2) * g * g
                s["m"], s["v"] = m, v
                if self.variant == "PyTorch eps placement":
                    m_hat, v_hat = m / (1 - c(self.beta_1) ** t), v / (1 - c(self.beta_2) ** t)
                    w = w - lr * m_hat / (np.sqrt(v_hat) + c(self.epsilon))
                else:
                    alpha = lr * np.sqrt(1 - c(self.beta_2) ** t) / (1 - c(self.beta_1) ** t)
                    w = w - alpha * m / (np.sqrt(v) + c(self.epsilon))
            if decay and self.variant == "decay after the update":
                w = w - w * c(self.weight_decay) * lr
            new[name] = w.astype(d)
        self.iterations += 1
        return new


def numpy_run(init, x, y, batch, hyper, l2, dtype):
    params = {k: v.astype(dtype) for k, v in init.items()}
    optimizer = NumpyOptimizer(dtype=dtype, **hyper)
    losses, step1, grads1 = [], None, None
    for s in range(len(x) // batch):
        loss, grads = numpy_loss_and_grads(params, x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch], l2, dtype)
        params = optimizer.apply(params, grads)
        losses.append(loss)
        if s == 0:
            step1, grads1 = params, grads
    return np.array(losses), step1, params, grads1


def cross_check_training(fixture, label, keras_result, init, x, y, batch, hyper, l2=None, loose=()):
    """The Keras numbers against the float32 NumPy reference (RTOL) and the float64 one (10 * RTOL);
    tensors named in `loose` only to LOOSE_RTOL. Returns {dtype: (step1, epoch1)} of the references."""
    k_losses, k_step1, k_epoch1, k_grads1 = keras_result
    references = {}
    for dtype, tolerance in ((np.float32, RTOL), (np.float64, 10 * RTOL)):
        losses, step1, epoch1, grads1 = numpy_run(init, x, y, batch, hyper, l2, dtype)
        references[dtype] = (step1, epoch1)
        family = f"{fixture} vs NumPy {np.dtype(dtype).name}"
        agree(family, f"{label}.losses", k_losses, losses, tolerance)
        for name in k_epoch1:
            agree(family, f"{label}.grads1.{name}", k_grads1[name], grads1[name], tolerance)
            if name in loose:
                tol, weights = max(tolerance, LOOSE_RTOL), f"{family} ({name} in full, not stored)"
            else:
                tol, weights = tolerance, family
            agree(weights, f"{label}.step1.{name}", k_step1[name], step1[name], tol)
            agree(weights, f"{label}.epoch1.{name}", k_epoch1[name], epoch1[name], tol)
    return references


def semantic_controls(tensors, init, x, y, batch):
    """Wrong readings of Keras must NOT reproduce its numbers: shows that the cross-checks tell them apart.
    Each must miss Keras's epoch1 weights by more than its threshold (10 * RTOL, or 2 * RTOL for a reading
    that only the cross-check's tolerance, not a 1e-5 test, can rule out).
    Returns [(description, worst relative error of the epoch1 weights, threshold)]."""
    controls = [
        ("adam", dict(OPTIMIZERS["adam"][1], variant="PyTorch eps placement", epsilon=1e-8), 10,
         "Adam with PyTorch's eps (1e-8 on the bias-corrected sqrt(v_hat))"),
        ("rmsprop", dict(OPTIMIZERS["rmsprop"][1], variant="eps outside the sqrt"), 10,
         "RMSprop with eps outside the sqrt"),
        ("adam_clipnorm", dict(OPTIMIZERS["adam_clipnorm"][1], variant="global clipnorm"), 10,
         "clipnorm as a global norm over all variables"),
        ("adamw", dict(OPTIMIZERS["adamw"][1], variant="no decay of biases"), 10, "AdamW not decaying biases"),
        ("adamw", dict(OPTIMIZERS["adamw"][1], variant="decay after the update"), 2,
         "AdamW decaying after the Adam update"),
        ("adamw", OPTIMIZERS["adam"][1], 10, "AdamW without weight decay"),
        ("adam_expdecay", dict(SCHEDULES["adam_expdecay"][1], lr=lambda step: 0.01 * 0.5 ** (step + 1)), 10,
         "ExponentialDecay fed the incremented step (iterations + 1)"),
        ("adam_cosine", dict(SCHEDULES["adam_cosine"][1],
                             lr=lambda step: 0.01 * 0.5 * (1 + math.cos(math.pi * min(step + 1, 3) / 3))),
         10, "CosineDecay fed the incremented step (iterations + 1)"),
        ("sgd_nesterov", OPTIMIZERS["sgd_momentum"][1], 10, "Nesterov read as plain momentum"),
    ]
    results = []
    for config, hyper, factor, description in controls:
        _, _, epoch1, _ = numpy_run(init, x, y, batch, hyper, None, np.float32)
        worst = max(float(np.max(relative_error(tensors[f"{config}.epoch1.{n}"], epoch1[n]))) for n in init)
        assert worst > factor * RTOL, (description, worst)
        results.append((description, worst, factor * RTOL))
    return results


CONTROLS = []


# --- fixture 1: the small MLP ---------------------------------------------------------------

def make_small_mlp():
    sizes, batch = [6, 8, 4], 4
    init = mlp_parameters(sizes)
    data = np.random.default_rng(20261203)
    x = data.standard_normal((12, 6)).astype(np.float32)
    y = data.integers(0, 4, size=12).astype(np.int32)
    tensors = {"x": x, "y": y}
    tensors.update({f"init.{k}": v for k, v in init.items()})

    for config, (make_optimizer, hyper) in OPTIMIZERS.items():
        result = keras_run(sizes, init, x, y, batch, make_optimizer)
        cross_check_training("small_mlp", config, result, init, x, y, batch, hyper)
        losses, step1, epoch1, grads1 = result
        tensors[f"{config}.losses"] = losses
        for name in init:
            tensors[f"{config}.step1.{name}"] = step1[name]
            tensors[f"{config}.epoch1.{name}"] = epoch1[name]
            tensors[f"{config}.grads1.{name}"] = grads1[name]
    # Same data, so every configuration's first loss and first gradients are the same numbers.
    for config in OPTIMIZERS:
        assert tensors[f"{config}.losses"][0] == tensors["sgd.losses"][0]
        for name in init:
            np.testing.assert_array_equal(tensors[f"{config}.grads1.{name}"], tensors[f"sgd.grads1.{name}"])

    # L2 on dense1.weight: 0.01 * sum(w^2) joins the loss (and the reported loss).
    make_optimizer, hyper = OPTIMIZERS["sgd"]
    result = keras_run(sizes, init, x, y, batch, make_optimizer, l2=0.01)
    cross_check_training("small_mlp", "l2", result, init, x, y, batch, hyper, l2=0.01)
    losses, step1, epoch1, grads1 = result
    tensors["l2.losses"] = losses
    for name in init:
        tensors[f"l2.step1.{name}"] = step1[name]
        tensors[f"l2.epoch1.{name}"] = epoch1[name]
        tensors[f"l2.grads1.{name}"] = grads1[name]

    for config, (make_optimizer, hyper) in SCHEDULES.items():
        result = keras_run(sizes, init, x, y, batch, make_optimizer)
        cross_check_training("small_mlp", config, result, init, x, y, batch, hyper)
        losses, step1, epoch1, _ = result
        tensors[f"{config}.losses"] = losses
        for name in init:
            tensors[f"{config}.epoch1.{name}"] = epoch1[name]
        # The first step uses schedule(0) = 0.01, so it is plain Adam's first step.
        for name in init:
            np.testing.assert_array_equal(step1[name], tensors[f"adam.step1.{name}"])
    # What Keras's schedules return for the iteration counts 0, 1, 2 that the optimiser feeds them.
    schedule = keras.optimizers.schedules
    for step, (e, c) in enumerate([(0.01, 0.01), (0.005, 0.0075), (0.0025, 0.0025)]):
        assert abs(float(schedule.ExponentialDecay(0.01, 1, 0.5)(step)) - e) <= 1e-9, step
        assert abs(float(schedule.CosineDecay(0.01, 3)(step)) - c) <= 1e-9, step
    CONTROLS[:] = semantic_controls(tensors, init, x, y, batch)
    return tensors


# --- fixture 2: losses -------------------------------------------------------------------------

LO = float(np.float32(1e-7))         # keras.config.epsilon() as the float32 clip bounds
HI = float(np.float32(1.0 - 1e-7))   # 0.99999988079071044921875


def softmax64(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def log_softmax64(z):
    s = z - z.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


def reference_loss(case, pred, target):
    """Closed-form value and d value / d pred in float64 (Keras's formulas, written out)."""
    p = pred.astype(np.float64)
    if case in ("mse", "mae"):
        diff = p - target.astype(np.float64)
        n = diff.size  # mean over the last axis, then sum over batch / batch size = mean of all
        if case == "mse":
            return (diff ** 2).sum() / n, 2 * diff / n
        return np.abs(diff).sum() / n, np.sign(diff) / n
    if case == "binary_crossentropy":
        t = target.astype(np.float64)
        q = np.clip(p, LO, HI)
        inside = (p > LO) & (p < HI)
        n = p.size
        value = -(t * np.log(q) + (1 - t) * np.log(1 - q)).sum() / n
        return value, inside * (-t / q + (1 - t) / (1 - q)) / n
    if case == "binary_crossentropy_logits":
        t = target.astype(np.float64)
        n = p.size
        value = (np.logaddexp(0, p) - t * p).sum() / n  # -t log σ(p) - (1-t) log σ(-p)
        return value, (1 / (1 + np.exp(-p)) - t) / n
    depth = p.shape[-1]
    if case.startswith("sparse"):
        t = np.eye(depth)[target.astype(np.int64)]
    else:
        t = target.astype(np.float64)
    n = p.size // depth  # sum_over_batch_size: every element of the per-sample loss array (batch × time)
    if case.endswith("_logits") or case.endswith("_logits_seq"):
        value = -(t * log_softmax64(p)).sum() / n
        return value, (softmax64(p) * t.sum(-1, keepdims=True) - t) / n
    # Probabilities: Keras divides by the row sum, clips to [eps, 1-eps], then takes the log.
    s = p.sum(-1, keepdims=True)
    q = p / s
    qc = np.clip(q, LO, HI)
    inside = (q > LO) & (q < HI)
    value = -(t * np.log(qc)).sum() / n
    w = t * inside / qc                      # d(-log qc_i) / d q_i, zero where clipped
    grad = (-w / s + (w * p).sum(-1, keepdims=True) / s ** 2) / n
    return value, grad


def keras_loss(case, pred, target):
    loss = {
        "mse": keras.losses.MeanSquaredError(),
        "mae": keras.losses.MeanAbsoluteError(),
        "binary_crossentropy": keras.losses.BinaryCrossentropy(),
        "binary_crossentropy_logits": keras.losses.BinaryCrossentropy(from_logits=True),
        "categorical_crossentropy": keras.losses.CategoricalCrossentropy(),
        "categorical_crossentropy_logits": keras.losses.CategoricalCrossentropy(from_logits=True),
        "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy(),
        "sparse_categorical_crossentropy_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "sparse_categorical_crossentropy_logits_seq": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    }[case]
    assert loss.reduction == "sum_over_batch_size"
    value = np.float32(loss(target, pred))
    traced, grad = jax.value_and_grad(lambda p: loss(jnp.asarray(target), p))(jnp.asarray(pred))
    assert np.float32(traced) == value
    return np.array(value, dtype=np.float32), np.array(grad, dtype=np.float32)


def make_losses():
    data = np.random.default_rng(20261204)
    f32 = np.float32
    cases = {}
    cases["mse"] = (data.standard_normal((5, 3)).astype(f32), data.standard_normal((5, 3)).astype(f32))
    cases["mae"] = (data.standard_normal((5, 3)).astype(f32), data.standard_normal((5, 3)).astype(f32))
    probs = data.uniform(0.05, 0.95, size=(5, 1)).astype(f32)
    probs[1, 0], probs[3, 0] = 0.0, 1.0  # clipped to 1e-7 and 1 - 1e-7: zero gradient there
    cases["binary_crossentropy"] = (probs, np.array([[1], [1], [0], [0], [1]], dtype=f32))
    cases["binary_crossentropy_logits"] = ((2 * data.standard_normal((5, 1))).astype(f32),
                                           np.array([[0], [1], [1], [0], [1]], dtype=f32))
    logits = (1.5 * data.standard_normal((5, 4))).astype(f32)
    labels = np.array([2, 0, 3, 1, 2], dtype=np.int32)
    rows = np.exp(logits - logits.max(1, keepdims=True))
    rows = (rows / rows.sum(1, keepdims=True)).astype(f32)
    rows[4] = [0.5, 0.25, 0.0, 0.25]  # the target class has probability 0: clipped, loss -log(1e-7), zero row gradient
    one_hot = np.eye(4, dtype=f32)[labels]
    cases["categorical_crossentropy"] = (rows, one_hot)
    cases["categorical_crossentropy_logits"] = (logits, one_hot)
    cases["sparse_categorical_crossentropy"] = (rows, labels)
    cases["sparse_categorical_crossentropy_logits"] = (logits, labels)
    cases["sparse_categorical_crossentropy_logits_seq"] = ((1.5 * data.standard_normal((2, 3, 4))).astype(f32),
                                                           data.integers(0, 4, size=(2, 3)).astype(np.int32))
    tensors = {}
    for case, (pred, target) in cases.items():
        value, grad = keras_loss(case, pred, target)
        ref_value, ref_grad = reference_loss(case, pred, target)
        agree("losses vs closed form float64", f"{case}.value", value, ref_value)
        agree("losses vs closed form float64", f"{case}.grad", grad, ref_grad)
        tensors[f"{case}.pred"] = pred
        tensors[f"{case}.target"] = target
        tensors[f"{case}.value"] = value.reshape(())
        tensors[f"{case}.grad"] = grad
    # The clipped entries really have zero gradient, and the clipped rows the -log(eps) loss.
    assert tensors["binary_crossentropy.grad"][1, 0] == 0 and tensors["binary_crossentropy.grad"][3, 0] == 0
    assert np.all(tensors["categorical_crossentropy.grad"][4] == 0)
    return tensors


# --- fixture 3: the MNIST MLP under Adam ---------------------------------------------------

def read_idx(path, count):
    """The first `count` items of a gzip IDX file of unsigned bytes (big-endian header)."""
    with gzip.open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        assert magic in (0x801, 0x803), hex(magic)  # uint8 labels (1 dim) / uint8 images (3 dims)
        rank = magic & 0xFF
        dims = struct.unpack(">" + "I" * rank, f.read(4 * rank))
        assert dims[0] >= count
        size = int(np.prod(dims[1:]))
        data = np.frombuffer(f.read(count * size), dtype=np.uint8)
    return data.reshape((count,) + dims[1:])


def make_mnist():
    sizes, batch, count = [784, 128, 10], 32, 256
    init = mlp_parameters(sizes)
    x = (read_idx(os.path.join(MNIST, "train-images-idx3-ubyte.gz"), count).reshape(count, 784).astype(np.float32)
         / np.float32(255))
    y = read_idx(os.path.join(MNIST, "train-labels-idx1-ubyte.gz"), count).astype(np.int32)
    hyper = dict(kind="adam", lr=0.001)
    result = keras_run(sizes, init, x, y, batch, lambda: keras.optimizers.Adam(learning_rate=0.001))
    references = cross_check_training("mnist", "mnist", result, init, x, y, batch, hyper, loose={"dense1.weight"})
    losses, step1, epoch1, _ = result

    # dense1.weight is ill-conditioned in float32: Adam's first steps are ~lr * g / (|g| + 3.2e-6), and many of
    # its gradients are ~1e-7..1e-6 (faint pixels), known only to a few digits after float32 sums in any order,
    # so such weights differ by up to ~1e-7 (several 1e-6 relative) between two float32 trainers. The stored
    # sample is drawn (seeded) from the weights that the epoch changes (a pixel non-zero somewhere in the 256
    # images) and where Keras agrees with both NumPy references (float32 and float64) within RTOL
    # elementwise, |a - b| <= 1e-6 |b|, after step 1 and after the epoch.
    a1 = step1["dense1.weight"].reshape(-1).astype(np.float64)
    a8 = epoch1["dense1.weight"].reshape(-1).astype(np.float64)
    changed = epoch1["dense1.weight"].reshape(-1) != init["dense1.weight"].reshape(-1)
    well = changed.copy()
    for ref_step1, ref_epoch1 in references.values():
        for a, ref in ((a1, ref_step1), (a8, ref_epoch1)):
            b = ref["dense1.weight"].reshape(-1).astype(np.float64)
            well &= np.abs(a - b) <= RTOL * np.abs(b)
    global MNIST_SAMPLE_POOL
    MNIST_SAMPLE_POOL = (int(changed.sum()), int(well.sum()))
    assert well.sum() > 0.8 * changed.sum(), MNIST_SAMPLE_POOL
    index = np.sort(np.random.default_rng(20261205).choice(np.flatnonzero(well), size=1000, replace=False)).astype(np.int32)
    return {
        "losses": losses,
        "step1.dense2.weight": step1["dense2.weight"], "step1.dense2.bias": step1["dense2.bias"],
        "epoch1.dense2.weight": epoch1["dense2.weight"], "epoch1.dense2.bias": epoch1["dense2.bias"],
        "epoch1.dense1.bias": epoch1["dense1.bias"],
        "sample_index": index,
        "step1.dense1.weight_sample": step1["dense1.weight"].reshape(-1)[index],
        "epoch1.dense1.weight_sample": epoch1["dense1.weight"].reshape(-1)[index],
    }


# --- main -------------------------------------------------------------------------------------

def generate():
    metadata = {"generator": "scripts/make_training_fixtures.py", "keras": keras.__version__,
                "backend": "jax", "jax": jax.__version__, "weights": "splitmix-fnv1a-v1"}
    return {
        "small_mlp.safetensors": safetensors_bytes(make_small_mlp(), {**metadata, "model": "Small"}),
        "losses.safetensors": safetensors_bytes(make_losses(), metadata),
        "mnist_mlp_adam.safetensors": safetensors_bytes(make_mnist(), {**metadata, "model": "MLP"}),
    }


def main():
    files = generate()
    again = generate()
    for name in files:
        assert files[name] == again[name], f"{name} is not reproducible within one run"
    os.makedirs(OUT, exist_ok=True)
    for name, blob in files.items():
        path = os.path.join(OUT, name)
        previous = open(path, "rb").read() if os.path.exists(path) else None
        with open(path, "wb") as f:
            f.write(blob)
        state = "new" if previous is None else ("unchanged" if previous == blob else "CHANGED")
        header = json.loads(blob[8:8 + struct.unpack("<Q", blob[:8])[0]])
        print(f"{os.path.relpath(path, ROOT)}: {len(header) - 1} tensors, {len(blob) / 1e3:.1f} kB, "
              f"sha256 {hashlib.sha256(blob).hexdigest()[:16]} ({state})")
    print(f"Keras {keras.__version__} (JAX {jax.__version__}); worst |keras - check| / (|check| + max|check|):")
    for family, worst in sorted(WORST.items()):
        print(f"  {family}: {worst:.2e}")
    print("Wrong readings of Keras, worst relative error of their small_mlp epoch1 weights (asserted > threshold):")
    for description, worst, threshold in CONTROLS:
        print(f"  {description}: {worst:.2e} (> {threshold:.0e})")
    changed, well = MNIST_SAMPLE_POOL
    print(f"  MNIST dense1.weight: {changed} of {784 * 128} weights change in the epoch, {changed - well} of them "
          f"ill-conditioned (> {RTOL:g} relative from a NumPy reference); the sample is drawn from the other {well}")


if __name__ == "__main__":
    sys.exit(main())
