model M(x: f32[B, 10]) -> f32[B, 10] {
    return x + glorot_uniform([B, 10])
}
