import DLMGraph
import DLMRuntime

/// Reads a model input from a file, by its extension, and adapts it to the
/// input's declared type: element type conversion (u8 pixels to f32),
/// scaling, and reshaping items of equal size (MNIST's 28×28 images into
/// [B, 28, 28, 1] or [B, 784]).
enum InputLoader {
    static func load(_ path: String, as expected: TensorType?, scale: Double, limit: Int?) throws -> Tensor {
        let lower = path.lowercased()
        var tensor: Tensor
        if lower.hasSuffix(".npy") {
            tensor = try NPY.read(path)
        } else if lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") || lower.hasSuffix(".txt") {
            tensor = try CSV.read(path).features
        } else if lower.contains("idx") || lower.contains("ubyte") {
            tensor = try IDX.read(path)
        } else {
            throw FormatError(path, "unknown input format (use .npy, IDX files such as *-idx3-ubyte[.gz], or .csv[.gz])")
        }
        if let limit, let first = tensor.shape.first, first > limit {
            let rows = try Tensor(dtype: tensor.dtype, shape: [limit] + tensor.shape.dropFirst(),
                                  bytes: tensor.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0.prefix(limit * tensor.count / first * tensor.dtype.byteSize)) })
            tensor = rows
        }
        guard let expected else { return tensor }
        if tensor.dtype != expected.dtype { tensor = try tensor.converted(to: expected.dtype) }
        if scale != 1 && expected.dtype.isFloatingPoint {
            tensor = try Tensor(dtype: tensor.dtype, shape: tensor.shape, values: tensor.scalars.map { $0 * scale })
        }
        // Items of the right size but another layout: reshape them, keeping the leading (example) axis.
        let trailing = expected.shape.dims.dropFirst().compactMap(\.constantValue)
        if tensor.shape.count != expected.shape.rank, let items = tensor.shape.first, trailing.count == expected.shape.rank - 1,
           items * trailing.reduce(1, *) == tensor.count {
            tensor = try tensor.reshaped([items] + trailing)
        }
        return tensor
    }
}
