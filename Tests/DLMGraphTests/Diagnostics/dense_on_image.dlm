model M(x: f32[B, 28, 28, 1]) -> f32[B, 10] {
    h = x
      |> conv2d(32, kernel: 3, activation: relu)
      |> dense(64, activation: relu)
    return dense(h, 10)
}
