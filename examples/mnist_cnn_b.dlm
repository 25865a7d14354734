## MNIST "CNN B": CNN A without the third convolution. 121,930 parameters.
model MnistCNNB(x: f32[B, 28, 28, 1]) -> f32[B, 10] {
    return x
      |> conv2d(32, kernel: 3, activation: relu) |> maxpool2d(2)
      |> conv2d(64, kernel: 3, activation: relu) |> maxpool2d(2)
      |> flatten
      |> dense(64, activation: relu)
      |> dense(10, activation: softmax)
}

train MnistCNNB {
    data      = idx(images: "../../shared/data/mnist/train-images-idx3-ubyte.gz",
                    labels: "../../shared/data/mnist/train-labels-idx1-ubyte.gz") / 255
    validate  = idx(images: "../../shared/data/mnist/t10k-images-idx3-ubyte.gz",
                    labels: "../../shared/data/mnist/t10k-labels-idx1-ubyte.gz") / 255
    loss      = sparse_categorical_crossentropy
    optimizer = adam()
    epochs    = 10
    batch     = 32
    metrics   = [accuracy]
}
