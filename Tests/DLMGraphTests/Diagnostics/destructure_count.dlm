layer Split(x: f32[B, 10]) -> (f32[B, 5], f32[B, 5]) {
    return (slice(x, axis: 1, start: 0, end: 5), slice(x, axis: 1, start: 5))
}

model M(x: f32[B, 10]) -> f32[B, 5] {
    (a, b, c) = Split(x)
    return a
}
