model M(x: f32[B, 10]) -> f32[B, 4] {
    param = dense(x, 4)
    return param
}
