extension Dim {
    /// Parses a dim in IR syntax (`B`, `2*B + 1`, `(T - 3)/2 + 1`); throws `IRParseError`.
    public static func parse(_ text: String) throws -> Dim {
        var parser = try GraphParser(text)
        let dim = try parser.parseDim()
        try parser.expectEnd()
        return dim
    }
}

extension TensorType {
    /// Parses a tensor type in IR syntax (`f32[B, 28, 28, 1]`); throws `IRParseError`.
    public static func parse(_ text: String) throws -> TensorType {
        var parser = try GraphParser(text)
        let type = try parser.parseType()
        try parser.expectEnd()
        return type
    }
}
