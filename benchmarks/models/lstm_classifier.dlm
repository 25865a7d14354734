## The runtime benchmark's LSTM model: 32 input features, 128 units, last
## state classified into 10 classes.
model LSTMClassifier(x: f32[B, T, 32]) -> f32[B, 10] {
    return x |> lstm(128) |> dense(10)
}
