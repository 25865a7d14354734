#!/usr/bin/env python3
"""Reference fixtures for the interpreter, computed independently with PyTorch and NumPy.

    pip install -r scripts/requirements.txt
    python3 scripts/make_fixtures.py            # rewrites Tests/DLMRuntimeTests/Fixtures/

Two kinds of fixture, both read by Tests/DLMRuntimeTests/FixtureTests.swift
(the tests never run Python):

ops/<case>.ir + ops/<case>.safetensors
    A small graph in dlmc's textual IR whose inputs are all graph inputs,
    and a safetensors file with one tensor per input (same name) and the
    expected outputs `out0`, `out1`, ... computed here with PyTorch/NumPy,
    not with dlmc's formulas. Cases cover every op, broadcasting, size-1 and
    size-0 dims, strides, dilation, padding, NaN/inf propagation and f64.

models/<example>.<Model>.safetensors
    Inputs for a reference model from examples/ and its expected outputs,
    computed by an independent PyTorch implementation of the same network.
    Weights are not stored: every parameter is generated from its name by
    the "splitmix-fnv1a-v1" rule below, which the Swift test reimplements:

        seed  = FNV-1a 64 of the parameter name's UTF-8 bytes
        z     = SplitMix64 stream from `seed` (DLMRuntime.RandomSource(seed: 0, name:))
        u     = (next() >> 11) * 2**-53                   in [0, 1)
        value = float32((2u - 1) * 0.5 / sqrt(fan_in))   fan_in = product of all dims but the last (1 for rank <= 1)
        except *.moving_variance and *.gamma: float32(1 + 0.25 * (2u - 1))

Tolerances: f32 elementwise rtol 1e-5 / atol 1e-6; anything that sums over
many terms (matmul, conv, reductions, models) rtol 1e-4 / atol 1e-5; f64
1e-12. A case can override them in ops/tolerances.json.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "DLMRuntimeTests", "Fixtures")
MASK = (1 << 64) - 1
torch.set_num_threads(1)


# --- deterministic data -------------------------------------------------------

class SplitMix64:
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


def fnv1a(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def parameter(name, shape):
    """The splitmix-fnv1a-v1 value of a parameter."""
    random = SplitMix64(fnv1a(name))
    count = int(np.prod(shape)) if shape else 1
    u = np.array([random.unit() for _ in range(count)], dtype=np.float64)
    if name.endswith(".moving_variance") or name.endswith(".gamma"):
        values = 1 + 0.25 * (2 * u - 1)
    else:
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        values = (2 * u - 1) * 0.5 / math.sqrt(fan_in)
    return values.astype(np.float32).reshape(shape)


rng = np.random.RandomState(20261124)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# --- op fixtures ---------------------------------------------------------------

def ir_type(array_or_spec):
    if isinstance(array_or_spec, str):
        return array_or_spec
    dtype = {np.float32: "f32", np.float64: "f64", np.int32: "i32", np.int64: "i64", np.bool_: "bool"}[array_or_spec.dtype.type]
    return f"{dtype}[{', '.join(str(d) for d in array_or_spec.shape)}]"


def op_case(name, inputs, body, outputs, tolerance=None, types=None, result_types=None):
    """inputs: {name: array}; body: IR node lines using %name inputs; outputs: list of arrays in return order.
    `types` / `result_types` override the IR types written for inputs / results (for symbolic dims)."""
    types = types or {}
    signature = ", ".join(f"%{k}: {types.get(k, ir_type(v))}" for k, v in inputs.items())
    results = ", ".join(result_types or [ir_type(o) for o in outputs])
    text = f"graph @{name}({signature}) -> ({results}) {{\n" + "".join(f"  {line}\n" for line in body) + "}\n"
    with open(os.path.join(OUT, "ops", f"{name}.ir"), "w") as f:
        f.write(text)
    tensors = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
    for i, o in enumerate(outputs):
        tensors[f"out{i}"] = np.ascontiguousarray(o)
    save_file(tensors, os.path.join(OUT, "ops", f"{name}.safetensors"))
    if tolerance:
        TOLERANCES[name] = tolerance


TOLERANCES = {}


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def gelu_exact(a):
    """0.5·x·(1 + erf(x/√2)) in double precision, element by element. PyTorch's
    gelu returns NaN at +inf where the formula (and dlmc) gives +inf; at -inf
    both give NaN (0·inf). Finite values agree with F.gelu to rounding."""
    flat = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) if math.isfinite(v) else (v if v > 0 else math.nan) if not math.isnan(v) else math.nan
            for v in a.astype(np.float64).ravel()]
    return np.array(flat, dtype=np.float32).reshape(a.shape)


def make_ops():
    os.makedirs(os.path.join(OUT, "ops"), exist_ok=True)
    x = randn(3, 5)
    special = np.array([[0.0, -0.0, 1.0, -1.0, np.nan], [np.inf, -np.inf, 88.0, -104.0, 1e-30]], dtype=np.float32)
    with np.errstate(all="ignore"):
        unary = {
            "neg": lambda a: -a, "abs": np.abs, "exp": lambda a: t(a).exp().numpy(), "log": lambda a: t(a).log().numpy(),
            "sqrt": lambda a: t(a).sqrt().numpy(), "rsqrt": lambda a: t(a).rsqrt().numpy(), "tanh": lambda a: t(a).tanh().numpy(),
            "sigmoid": lambda a: t(a).sigmoid().numpy(), "relu": lambda a: t(a).relu().numpy(),
            "gelu": gelu_exact, "erf": lambda a: t(a).erf().numpy(),
        }
        for op, f in unary.items():
            op_case(f"unary_{op}", {"x": x}, [f"%0 = {op}(%x) : f32[3, 5]", "return %0"], [f(x)])
            op_case(f"special_{op}", {"x": special}, [f"%0 = {op}(%x) : f32[2, 5]", "return %0"], [f(special)])
        op_case("unary_leaky_relu", {"x": x}, ["%0 = leaky_relu(%x) {alpha = 0.2} : f32[3, 5]", "return %0"],
                [F.leaky_relu(t(x), 0.2).numpy()])
        op_case("unary_exp_f64", {"x": x.astype(np.float64)}, ["%0 = exp(%x) : f64[3, 5]", "return %0"], [np.exp(x.astype(np.float64))])
        y = randn(3, 5)
        positive = np.abs(randn(3, 5)) + 0.5
        binary = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                  "maximum": lambda a, b: torch.maximum(t(a), t(b)).numpy(), "minimum": lambda a, b: torch.minimum(t(a), t(b)).numpy()}
        for op, f in binary.items():
            op_case(f"binary_{op}", {"x": x, "y": y}, [f"%0 = {op}(%x, %y) : f32[3, 5]", "return %0"], [f(x, y)])
            op_case(f"special_{op}", {"x": special, "y": special[:, ::-1].copy()}, [f"%0 = {op}(%x, %y) : f32[2, 5]", "return %0"],
                    [f(special, special[:, ::-1])])
        op_case("binary_pow", {"x": positive, "y": y}, ["%0 = pow(%x, %y) : f32[3, 5]", "return %0"], [np.power(positive, y)])
        for op, f in {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}.items():
            a = np.round(x); b = np.round(y)
            op_case(f"compare_{op}", {"x": a, "y": b}, [f"%0 = {op}(%x, %y) : bool[3, 5]", "return %0"], [f(a, b)])
        p = rng.rand(4) > 0.5; q = rng.rand(4) > 0.5
        op_case("logical", {"p": p, "q": q},
                ["%0 = logical_and(%p, %q) : bool[4]", "%1 = logical_or(%p, %q) : bool[4]", "%2 = logical_not(%p) : bool[4]", "return %0, %1, %2"],
                [p & q, p | q, ~p])
        ints = rng.randint(-20, 20, size=(2, 6)).astype(np.int32)
        divisors = rng.choice([-7, -3, -1, 1, 2, 5], size=(2, 6)).astype(np.int32)
        op_case("int32_arithmetic", {"a": ints, "b": divisors},
                ["%0 = add(%a, %b) : i32[2, 6]", "%1 = mul(%a, %b) : i32[2, 6]", "%2 = div(%a, %b) : i32[2, 6]", "return %0, %1, %2"],
                [ints + divisors, ints * divisors, np.trunc(ints / divisors).astype(np.int32)])
        cond = x > 0
        op_case("select", {"c": cond, "x": x, "y": y}, ["%0 = select(%c, %x, %y) : f32[3, 5]", "return %0"], [np.where(cond, x, y)])
        wide = np.array([[-2.7, -0.5, 0.5, 2.7, 1e5]], dtype=np.float32)
        op_case("cast", {"x": wide, "i": np.array([[1, -2, 3]], dtype=np.int32)},
                ["%0 = cast(%x) {dtype = i32} : i32[1, 5]", "%1 = cast(%i) {dtype = f32} : f32[1, 3]", "%2 = cast(%x) {dtype = bool} : bool[1, 5]",
                 "return %0, %1, %2"],
                [np.trunc(wide).astype(np.int32), np.array([[1, -2, 3]], dtype=np.float32), wide != 0])

    # constant, broadcast, reshape, transpose, slice, concat, gather, one_hot
    op_case("constant", {"x": x}, ["%0 = constant() {dtype = f32, shape = [2, 2], values = [1.5, -2.0, 0.25, 4.0]} : f32[2, 2]",
                                   "%1 = constant() {dtype = f32, shape = [3, 5], values = [0.5]} : f32[3, 5]",
                                   "%2 = add(%x, %1) : f32[3, 5]", "return %0, %2"],
            [np.array([[1.5, -2.0], [0.25, 4.0]], dtype=np.float32), x + 0.5])
    v = randn(5); col = randn(3, 1)
    op_case("broadcast", {"v": v, "c": col}, ["%0 = broadcast(%v) {shape = [3, 5]} : f32[3, 5]",
                                              "%1 = broadcast(%c) {shape = [2, 3, 5]} : f32[2, 3, 5]", "return %0, %1"],
            [np.broadcast_to(v, (3, 5)), np.broadcast_to(col, (2, 3, 5))])
    r = randn(2, 3, 4)
    op_case("reshape_transpose", {"x": r}, ["%0 = reshape(%x) {shape = [6, 4]} : f32[6, 4]",
                                            "%1 = transpose(%x) {permutation = [2, 0, 1]} : f32[4, 2, 3]", "return %0, %1"],
            [r.reshape(6, 4), r.transpose(2, 0, 1)])
    r4 = randn(2, 3, 4, 5)
    op_case("transpose_rank4", {"x": r4}, ["%0 = transpose(%x) {permutation = [0, 3, 1, 2]} : f32[2, 5, 3, 4]", "return %0"],
            [r4.transpose(0, 3, 1, 2)])
    s = randn(4, 7)
    op_case("slice_steps", {"x": s}, ["%0 = slice(%x) {ends = [4, 7], starts = [1, 0], steps = [2, 3]} : f32[2, 3]",
                                      "%1 = slice(%x) {ends = [3, 6], starts = [1, 2], steps = [1, 1]} : f32[2, 4]", "return %0, %1"],
            [s[1:4:2, 0:7:3], s[1:3, 2:6]])
    a, b, c = randn(2, 1), randn(2, 3), randn(2, 2)
    op_case("concat3", {"a": a, "b": b, "c": c}, ["%0 = concat(%a, %b, %c) {axis = 1} : f32[2, 6]", "return %0"], [np.concatenate([a, b, c], 1)])
    table = randn(6, 3)
    ids32 = np.array([[0, 5, 2], [2, 2, 1]], dtype=np.int32)
    ids64 = np.array([[0, 2], [1, 1]], dtype=np.int64)
    op_case("gather", {"t": table, "i": ids32, "j": ids64},
            ["%0 = gather(%t, %i) {axis = 0} : f32[2, 3, 3]", "%1 = gather(%t, %j) {axis = 1} : f32[6, 2, 2]", "return %0, %1"],
            [table[ids32], np.take(table, ids64, axis=1)])
    labels = np.array([0, 3, 1, 3], dtype=np.int32)
    op_case("one_hot", {"i": labels}, ["%0 = one_hot(%i) {depth = 4, dtype = f32} : f32[4, 4]", "return %0"],
            [F.one_hot(t(labels).long(), 4).float().numpy()])

    # matmul, batched matmul, size-0
    m1, m2 = randn(3, 4), randn(4, 5)
    op_case("matmul", {"a": m1, "b": m2}, ["%0 = matmul(%a, %b) : f32[3, 5]", "return %0"], [m1 @ m2], tolerance=[1e-4, 1e-5])
    b1, b2 = randn(2, 3, 4), randn(2, 4, 6)
    op_case("matmul_batched", {"a": b1, "b": b2}, ["%0 = matmul(%a, %b) : f32[2, 3, 6]", "return %0"], [b1 @ b2], tolerance=[1e-4, 1e-5])
    e1, e2 = randn(2, 0), randn(0, 3)
    op_case("matmul_empty_inner", {"a": e1, "b": e2}, ["%0 = matmul(%a, %b) : f32[2, 3]", "return %0"], [e1 @ e2])
    d1, d2 = randn(3, 4).astype(np.float64), randn(4, 2).astype(np.float64)
    op_case("matmul_f64", {"a": d1, "b": d2}, ["%0 = matmul(%a, %b) : f64[3, 2]", "return %0"], [d1 @ d2])

    # conv2d: NHWC x HWIO; torch on NCHW/OIHW with explicit (possibly asymmetric) padding
    def conv(xn, w, stride, dilation, pads):
        top, bottom, left, right = pads
        xt = F.pad(t(xn).permute(0, 3, 1, 2), (left, right, top, bottom))
        return F.conv2d(xt, t(w).permute(3, 2, 0, 1), stride=stride, dilation=dilation).permute(0, 2, 3, 1).numpy()
    for label, (h, wd, cin, cout, k, stride, dilation, pads) in {
        "conv_valid": (7, 6, 3, 4, 3, 1, 1, (0, 0, 0, 0)),
        "conv_stride2_same": (8, 7, 2, 3, 3, 2, 1, (1, 1, 0, 1)),
        "conv_dilation2": (9, 9, 2, 2, 3, 1, 2, (2, 2, 2, 2)),
        "conv_pointwise": (4, 5, 6, 3, 1, 1, 1, (0, 0, 0, 0)),
    }.items():
        xn = randn(2, h, wd, cin); w = randn(k, k, cin, cout)
        out = conv(xn, w, stride, dilation, pads)
        op_case(label, {"x": xn, "w": w},
                [f"%0 = conv2d(%x, %w) {{dilations = [{dilation}, {dilation}], padding = [{', '.join(map(str, pads))}], strides = [{stride}, {stride}]}} : {ir_type(out)}",
                 "return %0"], [out], tolerance=[1e-4, 1e-5])

    # pooling: max pads with -inf, average excludes padded cells
    pn = randn(2, 5, 6, 3)
    maxed = F.max_pool2d(F.pad(t(pn).permute(0, 3, 1, 2), (0, 1, 0, 1), value=-math.inf), 2, 2).permute(0, 2, 3, 1).numpy()
    ones = F.pad(torch.ones(1, 1, 5, 6), (0, 1, 0, 1))
    summed = F.avg_pool2d(F.pad(t(pn).permute(0, 3, 1, 2), (0, 1, 0, 1)), 2, 2, divisor_override=1)
    counts = F.avg_pool2d(ones, 2, 2, divisor_override=1)
    averaged = (summed / counts).permute(0, 2, 3, 1).numpy()
    op_case("pool_same", {"x": pn},
            ['%0 = pool2d(%x) {kind = "max", padding = [0, 1, 0, 1], strides = [2, 2], window = [2, 2]} : f32[2, 3, 3, 3]',
             '%1 = pool2d(%x) {kind = "avg", padding = [0, 1, 0, 1], strides = [2, 2], window = [2, 2]} : f32[2, 3, 3, 3]', "return %0, %1"],
            [maxed, averaged])
    pv = randn(1, 4, 4, 2)
    op_case("pool_valid_stride1", {"x": pv},
            ['%0 = pool2d(%x) {kind = "max", padding = [0, 0, 0, 0], strides = [1, 1], window = [3, 3]} : f32[1, 2, 2, 2]', "return %0"],
            [F.max_pool2d(t(pv).permute(0, 3, 1, 2), 3, 1).permute(0, 2, 3, 1).numpy()])

    # reductions and argmax (ties: first index)
    rd = randn(2, 3, 4)
    for kind, f in {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod}.items():
        op_case(f"reduce_{kind}", {"x": rd},
                [f'%0 = reduce(%x) {{axes = [1], keepdims = false, kind = "{kind}"}} : f32[2, 4]',
                 f'%1 = reduce(%x) {{axes = [0, 2], keepdims = true, kind = "{kind}"}} : f32[1, 3, 1]', "return %0, %1"],
                [f(rd, axis=1), f(rd, axis=(0, 2), keepdims=True)], tolerance=[1e-4, 1e-5])
    with_nan = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, -1.0]], dtype=np.float32)
    op_case("reduce_nan", {"x": with_nan}, ['%0 = reduce(%x) {axes = [1], keepdims = false, kind = "max"} : f32[2]',
                                            '%1 = reduce(%x) {axes = [1], keepdims = false, kind = "sum"} : f32[2]', "return %0, %1"],
            [torch.amax(t(with_nan), 1).numpy(), with_nan.sum(1)])
    ties = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [-1, -5, -1, -7]], dtype=np.float32)
    op_case("argmax_ties", {"x": ties}, ["%0 = argmax(%x) {axis = 1, keepdims = false} : i64[3]", "return %0"], [np.argmax(ties, 1)])

    # scan: a tanh RNN with one carry, and one with two carries and a per-step output
    xs = randn(2, 5, 3); h0 = randn(2, 4); w = randn(3, 4) * 0.5; u = randn(4, 4) * 0.5
    h = t(h0); seq = []
    for step in range(5):
        h = torch.tanh(t(xs[:, step]) @ t(w) + h @ t(u))
        seq.append(h)
    op_case("scan_rnn", {"xs": xs, "h0": h0, "w": w, "u": u},
            ["%0, %1 = scan(%xs, %h0, %w, %u) {carries = 1, reverse = false, sequences = 1} : f32[2, 4], f32[2, 5, 4] {",
             "  body(%x_t: f32[2, 3], %h: f32[2, 4], %cw: f32[3, 4], %cu: f32[4, 4]) {",
             "    %0 = matmul(%x_t, %cw) : f32[2, 4]", "    %1 = matmul(%h, %cu) : f32[2, 4]", "    %2 = add(%0, %1) : f32[2, 4]",
             "    %3 = tanh(%2) : f32[2, 4]", "    return %3, %3", "  }", "}", "return %0, %1"],
            [h.numpy(), torch.stack(seq, 1).numpy()], tolerance=[1e-4, 1e-5])
    a0, b0 = randn(2, 3), randn(2, 3)
    acc, mx = t(a0), t(b0)
    for step in range(4):
        acc = acc + t(xs[:, step])
        mx = torch.maximum(mx, acc)
    op_case("scan_two_carries", {"xs": xs[:, :4], "a": a0, "b": b0},
            ["%0, %1 = scan(%xs, %a, %b) {carries = 2, reverse = false, sequences = 1} : f32[2, 3], f32[2, 3] {",
             "  body(%x_t: f32[2, 3], %acc: f32[2, 3], %mx: f32[2, 3]) {",
             "    %0 = add(%acc, %x_t) : f32[2, 3]", "    %1 = maximum(%mx, %0) : f32[2, 3]", "    return %0, %1", "  }", "}", "return %0, %1"],
            [acc.numpy(), mx.numpy()], tolerance=[1e-5, 1e-6])

    # symbolic dims bound from the inputs
    sx = randn(3, 4); sv = randn(4)
    op_case("symbolic_batch", {"x": sx, "v": sv},
            ["%0 = broadcast(%v) {shape = [B, 4]} : f32[B, 4]", "%1 = mul(%x, %0) : f32[B, 4]",
             '%2 = reduce(%1) {axes = [1], keepdims = true, kind = "sum"} : f32[B, 1]', "return %2"],
            [(sx * sv).sum(1, keepdims=True)], tolerance=[1e-5, 1e-6], types={"x": "f32[B, 4]"}, result_types=["f32[B, 1]"])

    with open(os.path.join(OUT, "ops", "tolerances.json"), "w") as f:
        json.dump(TOLERANCES, f, indent=1, sort_keys=True)


# --- model fixtures ------------------------------------------------------------

def p(name, shape):
    """A model parameter, generated from its name."""
    return t(parameter(name, shape))


def conv_layer(h, name, k, cin, cout, padding="valid", act=torch.relu):
    w = p(f"{name}.weight", [k, k, cin, cout]); b = p(f"{name}.bias", [cout])
    hn = h.permute(0, 3, 1, 2)
    if padding == "same":
        hn = F.pad(hn, ((k - 1) // 2, k - 1 - (k - 1) // 2, (k - 1) // 2, k - 1 - (k - 1) // 2))
    y = F.conv2d(hn, w.permute(3, 2, 0, 1), b).permute(0, 2, 3, 1)
    return act(y) if act else y


def pool(h):
    return F.max_pool2d(h.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)


def lin(h, name, fin, fout, act=None):
    y = h @ p(f"{name}.weight", [fin, fout]) + p(f"{name}.bias", [fout])
    return act(y) if act else y


def gru_keras(x, name, units):
    """Keras GRU, reset_after=True, gate order z, r, h; returns the whole sequence."""
    k = p(f"{name}.weight", [x.shape[-1], 3 * units]); u = p(f"{name}.recurrent_weight", [units, 3 * units])
    b = p(f"{name}.bias", [2, 3 * units])
    h = torch.zeros(x.shape[0], units)
    outs = []
    for s in range(x.shape[1]):
        xz = x[:, s] @ k + b[0]
        hz = h @ u + b[1]
        z = torch.sigmoid(xz[:, :units] + hz[:, :units])
        r = torch.sigmoid(xz[:, units:2 * units] + hz[:, units:2 * units])
        hh = torch.tanh(xz[:, 2 * units:] + r * hz[:, 2 * units:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return torch.stack(outs, 1)


def lstm_torch(x, name, units):
    k = p(f"{name}.weight", [x.shape[-1], 4 * units]); u = p(f"{name}.recurrent_weight", [units, 4 * units])
    b = p(f"{name}.bias", [4 * units])
    cell = torch.nn.LSTM(x.shape[-1], units, batch_first=True)
    with torch.no_grad():
        cell.weight_ih_l0.copy_(k.T); cell.weight_hh_l0.copy_(u.T); cell.bias_ih_l0.copy_(b); cell.bias_hh_l0.zero_()
        _, (h, _) = cell(x)
    return h[0]


def rnn_torch(x, name, units):
    k = p(f"{name}.weight", [x.shape[-1], units]); u = p(f"{name}.recurrent_weight", [units, units]); b = p(f"{name}.bias", [units])
    cell = torch.nn.RNN(x.shape[-1], units, nonlinearity="relu", batch_first=True)
    with torch.no_grad():
        cell.weight_ih_l0.copy_(k.T); cell.weight_hh_l0.copy_(u.T); cell.bias_ih_l0.copy_(b); cell.bias_hh_l0.zero_()
        out, _ = cell(x)
    return out


def batchnorm(h, name, c, eps=1e-3):
    mean = p(f"{name}.moving_mean", [c]); var = p(f"{name}.moving_variance", [c])
    gamma = p(f"{name}.gamma", [c]); beta = p(f"{name}.beta", [c])
    return (h - mean) / torch.sqrt(var + eps) * gamma + beta


def handwritten_lstm(x, units):
    h = torch.zeros(x.shape[0], units); c = torch.zeros(x.shape[0], units)
    for s in range(x.shape[1]):
        z = torch.cat([h, x[:, s]], 1)
        i = torch.sigmoid(lin(z, "lstm_cell1.input_gate", z.shape[1], units))
        f = torch.sigmoid(lin(z, "lstm_cell1.forget_gate", z.shape[1], units))
        o = torch.sigmoid(lin(z, "lstm_cell1.output_gate", z.shape[1], units))
        g = torch.tanh(lin(z, "lstm_cell1.cell", z.shape[1], units))
        c = f * c + i * g
        h = o * torch.tanh(c)
    return h


def residual(h, prefix, c):
    y = conv_layer(h, f"{prefix}.conv1", 3, c, c, "same", torch.relu)
    y = conv_layer(y, f"{prefix}.conv2", 3, c, c, "same", None)
    return torch.relu(h + y)


def make_models():
    os.makedirs(os.path.join(OUT, "models"), exist_ok=True)
    soft = lambda y: torch.softmax(y, -1)
    relu = torch.relu

    def cnn_a(x):
        h = pool(conv_layer(x, "conv1", 3, 1, 32)); h = pool(conv_layer(h, "conv2", 3, 32, 64)); h = conv_layer(h, "conv3", 3, 64, 64)
        return [soft(lin(lin(h.reshape(h.shape[0], -1), "dense1", 576, 64, relu), "dense2", 64, 10))]

    def cnn_b(x):
        h = pool(conv_layer(x, "conv1", 3, 1, 32)); h = pool(conv_layer(h, "conv2", 3, 32, 64))
        return [soft(lin(lin(h.reshape(h.shape[0], -1), "dense1", 1600, 64, relu), "dense2", 64, 10))]

    def cnn_c(x):
        h = pool(conv_layer(x, "conv1", 3, 1, 32)); h = pool(conv_layer(h, "conv2", 3, 32, 64))
        return [soft(lin(lin(h.reshape(h.shape[0], -1), "dense1", 1600, 128, relu), "dense2", 128, 10))]

    def digits(x):
        h = conv_layer(x.reshape(-1, 8, 8, 1), "conv1", 3, 1, 16, "same")
        h = residual(residual(h, "residual1", 16), "residual2", 16)
        logits = lin(h.mean((1, 2)), "dense1", 16, 10)
        return [logits, soft(logits)]

    def breast_cancer(x):
        h = lin(batchnorm(x, "bn1", 30), "dense1", 30, 16, relu)
        return [torch.sigmoid(lin(h, "dense2", 16, 1))]

    cases = [
        ("mnist_cnn_a", "MnistCNN", {"x": randn(2, 28, 28, 1)}, cnn_a),
        ("mnist_cnn_b", "MnistCNNB", {"x": randn(2, 28, 28, 1)}, cnn_b),
        ("mnist_cnn_c", "MnistCNNC", {"x": randn(2, 28, 28, 1)}, cnn_c),
        ("mlp", "MLP", {"x": randn(3, 784)}, lambda x: [lin(lin(x, "dense1", 784, 128, relu), "dense2", 128, 10)]),
        ("xor", "XOR", {"x": np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)},
         lambda x: [torch.sigmoid(lin(lin(x, "dense1", 2, 2, relu), "dense2", 2, 1))]),
        ("linear_regression", "Linear", {"x": randn(4, 2)}, lambda x: [x @ p("w", [2, 1]) + p("b", [1])]),
        ("simple_rnn", "SequenceRNN", {"x": randn(2, 5, 10)},
         lambda x: [soft(lin(lin(rnn_torch(x, "rnn1", 128), "dense1", 128, 128, relu), "dense2", 128, 2))]),
        ("gru_lm", "GRULanguageModel", {"tokens": rng.randint(0, 10000, size=(2, 4)).astype(np.int32)},
         lambda tok: [soft(lin(gru_keras(p("embedding1.weight", [10000, 128])[tok.long()], "gru1", 128), "dense1", 128, 10000))]),
        ("lstm", "BuiltinLSTM", {"x": randn(2, 6, 32)}, lambda x: [lstm_torch(x, "lstm1", 128)]),
        ("lstm", "HandwrittenLSTM", {"x": randn(2, 6, 32)}, lambda x: [handwritten_lstm(x, 128)]),
        ("iris", "Iris", {"x": randn(5, 4)}, lambda x: [soft(lin(x, "dense1", 4, 3))]),
        ("breast_cancer", "BreastCancer", {"x": randn(4, 30)}, breast_cancer),
        ("digits", "Digits", {"pixels": randn(3, 64)}, digits),
    ]
    for example, model, inputs, forward in cases:
        with torch.no_grad():
            outputs = forward(*[t(v) for v in inputs.values()])
        tensors = dict(inputs)
        for i, o in enumerate(outputs):
            tensors[f"out{i}"] = np.ascontiguousarray(o.numpy())
        metadata = {"model": model, "weights": "splitmix-fnv1a-v1"}
        save_file(tensors, os.path.join(OUT, "models", f"{example}.{model}.safetensors"), metadata=metadata)


def main():
    make_ops()
    make_models()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote fixtures to {os.path.relpath(OUT, ROOT)}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
