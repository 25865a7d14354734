model M(x: f32[B, 10]) -> f32[B, 4] {
    hidden = dense(x, 16, activation: relu)
    return dense(hiden, 4)
}
