model M(x: f32[B, 10]) -> f32[B, 4] {
    h = dense(x, 4)
    return h(x)
}
