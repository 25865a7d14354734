model M(x: f32[B, 32]) -> f32[B, 64] {
    return x |> lstm(64)
}
