model M(x: f32[B, 784]) -> f32[B, 10] {
    h = conv2d(x, 32, kernel: 3)
    return dense(flatten(h), 10)
}
