model M(x: f32[B, 10]) -> (logits: f32[B, 4], probabilities: f32[B, 4]) {
    return dense(x, 4)
}
