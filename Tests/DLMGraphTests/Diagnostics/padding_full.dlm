model M(x: f32[B, 28, 28, 1]) -> f32[B, 28, 28, 8] {
    return conv2d(x, 8, kernel: 3, padding: full)
}
