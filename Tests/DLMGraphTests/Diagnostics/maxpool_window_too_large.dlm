model M(x: f32[B, 4, 4, 3]) -> f32[B, 1, 1, 3] {
    return x |> maxpool2d(5)
}
