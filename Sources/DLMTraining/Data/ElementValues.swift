import DLMGraph
import DLMRuntime

/// Typed loops over a tensor's elements (one dtype switch per tensor, not per element).
enum ElementValues {
    /// Calls `body` with each element's index and value as a Double, in row-major order;
    /// stops early when `body` returns false.
    static func forEach(_ tensor: Tensor, _ body: (Int, Double) -> Bool) {
        tensor.withUnsafeBytes { raw in
            switch tensor.dtype {
            case .f32: visit(raw, Float.self, body) { Double($0) }
            case .f64: visit(raw, Double.self, body) { $0 }
            case .i32: visit(raw, Int32.self, body) { Double($0) }
            case .i64: visit(raw, Int64.self, body) { Double($0) }
            case .u8, .bool: visit(raw, UInt8.self, body) { Double($0) }
            }
        }
    }

    private static func visit<T>(_ raw: UnsafeRawBufferPointer, _: T.Type, _ body: (Int, Double) -> Bool, _ convert: (T) -> Double) {
        let elements = raw.bindMemory(to: T.self)
        for i in elements.indices where !body(i, convert(elements[i])) { return }
    }

    /// Every element as a Double.
    static func doubles(_ tensor: Tensor) -> [Double] {
        var result: [Double] = []
        result.reserveCapacity(tensor.count)
        forEach(tensor) { _, value in result.append(value); return true }
        return result
    }

    /// The first element (index and value) that fails `test`, if any.
    static func first(in tensor: Tensor, where test: (Double) -> Bool) -> (index: Int, value: Double)? {
        var found: (Int, Double)?
        forEach(tensor) { i, value in
            if test(value) { found = (i, value); return false }
            return true
        }
        return found
    }

    /// A floating copy (`f32` or `f64`) of the elements multiplied by `scale`
    /// (computed in double precision, then rounded to the target type).
    static func floating(_ tensor: Tensor, as dtype: DType, scale: Double, shape: [Int]) throws -> Tensor {
        guard dtype.isFloatingPoint else { throw TrainingError("\(dtype.rawValue) is not a floating type") }
        var result = try Tensor(zeros: dtype, shape: shape)
        guard result.count == tensor.count else { throw TrainingError("cannot reshape \(tensor.shape) to \(shape)") }
        result.withUnsafeMutableBytes { raw in
            if dtype == .f64 {
                let out = raw.bindMemory(to: Double.self)
                forEach(tensor) { i, value in out[i] = value * scale; return true }
            } else {
                let out = raw.bindMemory(to: Float.self)
                forEach(tensor) { i, value in out[i] = Float(value * scale); return true }
            }
        }
        return result
    }
}
