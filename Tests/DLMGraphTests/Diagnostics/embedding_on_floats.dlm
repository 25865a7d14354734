model M(tokens: f32[B, T]) -> f32[B, T, 16] {
    return embedding(tokens, 1000, 16)
}
