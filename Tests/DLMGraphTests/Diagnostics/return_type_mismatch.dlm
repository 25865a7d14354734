model M(x: f32[B, 784]) -> f32[B, 10] {
    h = dense(x, 64, activation: relu)
    return h
}
