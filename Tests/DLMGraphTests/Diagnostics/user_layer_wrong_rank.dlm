layer Block(x: f32[B, C]) -> f32[B, C] {
    return relu(x)
}

model M(x: f32[B, 28, 28, 1]) -> f32[B, 784] {
    return x |> Block |> flatten
}
