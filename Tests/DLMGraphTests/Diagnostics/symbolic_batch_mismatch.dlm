model M(x: f32[B, 10], y: f32[N, 10]) -> f32[B, 10] {
    return x + y
}
