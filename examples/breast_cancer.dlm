## A small MLP for binary classification of breast tumours (30 features),
## with dropout and L2 weight decay.
model BreastCancer(x: f32[N, 30]) -> f32[N, 1] {
    h = x
      |> batchnorm
      |> dense(16, activation: relu, kernel_regularizer: l2(0.001))
      |> dropout(0.2)
    return dense(h, 1, activation: sigmoid)
}

train BreastCancer {
    data      = csv("../../shared/data/tabular/breast_cancer.csv", label: -1)
    validate  = split(0.2)
    loss      = binary_crossentropy
    optimizer = rmsprop(lr: 0.001)
    epochs    = 50
    batch     = 32
    metrics   = [accuracy, precision, recall, f1]
}
