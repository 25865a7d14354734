model M(x: f32[B, 10]) -> f32[B, 4] {
    h = dense(x, 8, activation: relu
    return dense(h, 4)
}
