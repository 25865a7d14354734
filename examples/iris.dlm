## Logistic regression (softmax over three classes) on the iris flowers.
model Iris(x: f32[N, 4]) -> f32[N, 3] {
    return dense(x, 3, activation: softmax)
}

train Iris {
    data      = csv("../../shared/data/tabular/iris.csv", label: -1)
    validate  = split(0.2)
    loss      = sparse_categorical_crossentropy
    optimizer = sgd(lr: 0.1, momentum: 0.9)
    epochs    = 100
    batch     = 16
    metrics   = [accuracy]
}
