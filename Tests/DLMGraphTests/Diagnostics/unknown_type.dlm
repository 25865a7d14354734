model M(x: f23[B, 10]) -> f32[B, 4] {
    return dense(x, 4)
}
