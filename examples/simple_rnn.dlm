## A sequence classifier: a 128-unit ReLU SimpleRNN over 10 features per
## step, then two dense layers applied at every step. 34,562 parameters.
model SequenceRNN(x: f32[B, T, 10]) -> f32[B, T, 2] {
    return x
      |> simple_rnn(128, activation: relu, return_sequences: true)
      |> dense(128, activation: relu)
      |> dense(2, activation: softmax)
}

train SequenceRNN {
    data      = npy(x: "data/sequences_x.npy", y: "data/sequences_y.npy")
    loss      = categorical_crossentropy
    optimizer = adam(lr: 0.001)
    epochs    = 10
    batch     = 32
}
