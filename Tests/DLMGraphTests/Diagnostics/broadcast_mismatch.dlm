model M(x: f32[B, 10], y: f32[B, 5]) -> f32[B, 10] {
    return x + y
}
