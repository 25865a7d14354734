model M(x: f32[B, 28, 28]) -> f32[B, 700] {
    return reshape(x, [B, 700])
}
