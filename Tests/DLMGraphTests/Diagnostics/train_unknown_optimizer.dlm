model Net(x: f32[B, 4]) -> f32[B, 3] {
    return dense(x, 3, activation: softmax)
}

train Net {
    data      = csv(path: "iris.csv", label: -1)
    loss      = sparse_categorical_crossentropy
    optimizer = adagrad(lr: 0.01)
}
