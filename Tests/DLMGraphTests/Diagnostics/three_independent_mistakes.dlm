layer Block(x: f32[B, 16]) -> f32[B, 16] {
    return dense(x, 16, activation: relu)
}

model First(x: f32[B, 28, 28, 1]) -> f32[B, 10] {
    h = x |> flatten |> dense(64, activation: rleu)
    return dense(h, 10)
}

model Second(x: f32[B, 16]) -> f32[B, 16] {
    y = Block(x)
    return Block(z)
}

model Third(x: f32[B, 10], y: f32[B, 5]) -> f32[B, 10] {
    return x * y
}
