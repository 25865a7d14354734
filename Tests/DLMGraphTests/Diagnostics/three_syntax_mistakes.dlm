model First(x: f32[B, 10]) -> f32[B, 4] {
    h = dense(x, 8, activation: relu
    return dense(h, 4)
}

model Second(x: f32[B, 10]) -> f32[B, 4] {
    h = dense(x, 8) +
    return dense(h, 4)
}

model Third(x: f32[B, 10]) -> f32[B, 4] {
    return dense(x, units: 4, relu)
}
