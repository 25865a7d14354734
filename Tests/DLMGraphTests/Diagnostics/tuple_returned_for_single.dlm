model M(x: f32[B, 10]) -> f32[B, 4] {
    a = dense(x, 4)
    b = dense(x, 4)
    return (a, b)
}
