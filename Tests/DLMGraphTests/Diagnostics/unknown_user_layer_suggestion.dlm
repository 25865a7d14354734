layer Block(x: f32[B, 10]) -> f32[B, 10] {
    return dense(x, 10, activation: relu)
}

model M(x: f32[B, 10]) -> f32[B, 10] {
    return Blok(x)
}
