model M(x: f32[B, 10]) -> f32[B, 10] {
    return dropout(x, 0.5, 42, "drop", 7)
}
