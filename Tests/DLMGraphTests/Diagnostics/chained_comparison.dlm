model M(x: f32[B, 10]) -> bool[B, 10] {
    return 0 < x < 1
}
