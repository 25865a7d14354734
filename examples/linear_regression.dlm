## Linear regression, y = x @ w + b, with the parameters written out.
## 3 parameters. The four points lie on a line (y = x1 fits them exactly).
model Linear(x: f32[N, 2]) -> f32[N, 1] {
    ## The weights: one column per output.
    param w: f32[2, 1] = glorot_uniform
    param b: f32[1] = zeros
    return x @ w + b
}

train Linear {
    data      = inline(x: [[1, 2], [2, 3], [3, 4], [4, 5]],
                       y: [[1], [2], [3], [4]])
    loss      = mse
    optimizer = adam(lr: 0.01)
    steps     = 1000
    batch     = 4
}
