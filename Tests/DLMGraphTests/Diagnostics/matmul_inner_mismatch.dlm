model M(x: f32[B, 10]) -> f32[B, 4] {
    param w: f32[12, 4] = glorot_uniform
    return x @ w
}
