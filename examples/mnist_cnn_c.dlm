## MNIST "CNN C": two convolutions and a 128-unit hidden layer, trained
## with one-hot labels. 225,034 parameters.
model MnistCNNC(x: f32[B, 28, 28, 1]) -> f32[B, 10] {
    features = x
      |> conv2d(32, kernel: [3, 3], activation: relu)
      |> maxpool2d(size: 2)
      |> conv2d(64, kernel: [3, 3], activation: relu)
      |> maxpool2d(size: 2)
      |> flatten
    hidden = dense(features, 128, activation: relu)
    return dense(hidden, 10, activation: softmax)
}

train MnistCNNC {
    data      = idx(images: "../../shared/data/mnist/train-images-idx3-ubyte.gz",
                    labels: "../../shared/data/mnist/train-labels-idx1-ubyte.gz") / 255
    loss      = categorical_crossentropy
    optimizer = adam(lr: 0.001)
    epochs    = 5
    batch     = 128
    validate  = split(0.1)
    metrics   = [accuracy]
}
