## A 784-128-10 multilayer perceptron on flattened MNIST digits.
## 101,770 parameters; about 97.5–98% test accuracy.
model MLP(x: f32[B, 784]) -> f32[B, 10] {
    return x |> dense(128, activation: relu) |> dense(10)    # logits
}

train MLP {
    data      = idx(images: "../../shared/data/mnist/train-images-idx3-ubyte.gz",
                    labels: "../../shared/data/mnist/train-labels-idx1-ubyte.gz") / 255
    validate  = idx(images: "../../shared/data/mnist/t10k-images-idx3-ubyte.gz",
                    labels: "../../shared/data/mnist/t10k-labels-idx1-ubyte.gz") / 255
    loss      = sparse_categorical_crossentropy(from_logits: true)
    optimizer = adam(lr: 0.001)
    epochs    = 5
    batch     = 32
    metrics   = [accuracy]
}
