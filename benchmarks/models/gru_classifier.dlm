## The runtime benchmark's GRU model: embed 10,000 ids into 128 features,
## run a 128-unit GRU (Keras' reset_after) over the sequence, classify the
## last state into 10 classes.
model GRUClassifier(tokens: i32[B, T]) -> f32[B, 10] {
    return tokens |> embedding(10000, 128) |> gru(128) |> dense(10)
}
