## An LSTM two ways: the built-in layer, and the same cell written from its
## gate equations and run over time with scan. Both have 82,432 parameters
## for 32 input features and 128 units.

## One LSTM step: i, f, o = σ(W·[h, x] + b), g = tanh(W_g·[h, x] + b_g),
## c' = f·c + i·g, h' = o·tanh(c').
layer LSTMCell(x: f32[B, I], h: f32[B, H], c: f32[B, H]) -> (f32[B, H], f32[B, H]) {
    z = concat([h, x], axis: 1)
    i = sigmoid(dense(z, H, name: "input_gate"))
    f = sigmoid(dense(z, H, name: "forget_gate"))
    o = sigmoid(dense(z, H, name: "output_gate"))
    g = tanh(dense(z, H, name: "cell"))
    c2 = f * c + i * g
    return (o * tanh(c2), c2)
}

model BuiltinLSTM(x: f32[B, T, 32]) -> f32[B, 128] {
    return lstm(x, 128)
}

model HandwrittenLSTM(x: f32[B, T, 32]) -> f32[B, 128] {
    (h, c) = scan(LSTMCell, x, init: (zeros([B, 128]), zeros([B, 128])))
    return h
}
