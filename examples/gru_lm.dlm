## A word-level language model: embed ids, run a GRU over the sequence,
## predict the next id at every step. 2,669,072 parameters (Keras' GRU with
## reset_after, its default).
model GRULanguageModel(tokens: i32[B, T]) -> f32[B, T, 10000] {
    return tokens
      |> embedding(10000, 128)
      |> gru(128, return_sequences: true)
      |> dense(10000, activation: softmax)
}

train GRULanguageModel {
    data      = npy(x: "data/corpus_ids.npy", y: "data/corpus_next_ids.npy")
    loss      = sparse_categorical_crossentropy
    optimizer = adam(lr: 0.001)
    epochs    = 3
    batch     = 64
}
