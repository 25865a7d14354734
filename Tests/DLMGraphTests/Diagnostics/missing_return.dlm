model M(x: f32[B, 10]) -> f32[B, 4] {
    y = dense(x, 4)
}
