## scikit-learn's 8×8 digits as images: a tiny CNN with a residual block.

## Two 3×3 convolutions with a skip connection around them.
layer Residual(x: f32[B, H, W, C]) -> f32[B, H, W, C] {
    y = x |> conv2d(C, kernel: 3, padding: same, activation: relu)
          |> conv2d(C, kernel: 3, padding: same)
    return relu(x + y)
}

model Digits(pixels: f32[B, 64]) -> (logits: f32[B, 10], probabilities: f32[B, 10]) {
    image = reshape(pixels, [B, 8, 8, 1])
    h = image
      |> conv2d(16, kernel: 3, padding: same, activation: relu)
      |> Residual
      |> Residual
      |> global_avgpool
    logits = dense(h, 10)
    return (logits, softmax(logits))
}

train Digits {
    data      = csv("../../shared/data/tabular/digits.csv.gz", label: -1, header: false) / 16
    validate  = split(0.2)
    loss      = sparse_categorical_crossentropy(from_logits: true)
    optimizer = adam(lr: 0.003)
    epochs    = 20
    batch     = 32
    metrics   = [accuracy]
}
