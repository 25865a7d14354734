model M(x: f32[B, 10]) -> f32[B, 10] {
    y = x ÿş 2
    return y
}
