model M(x: f32[B, 10]) -> f32[B, 10] {
    y = x $ 2
    return y
}
