import DLMGraph

/// A concrete, contiguous, row-major tensor in memory the interpreter does
/// not own (an arena slot, a caller's tensor). Kernels read and write
/// through these; shapes are already bound to numbers.
struct BufferView: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let dtype: DType
    let shape: [Int]

    var count: Int { shape.reduce(1, *) }
    var byteCount: Int { count * dtype.byteSize }

    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        pointer.assumingMemoryBound(to: T.self)
    }

    /// Element `i` as a Double, whatever the dtype (for generic, slow paths).
    func load(_ i: Int) -> Double {
        switch dtype {
        case .f32: Double(pointer.load(fromByteOffset: i * 4, as: Float.self))
        case .f64: pointer.load(fromByteOffset: i * 8, as: Double.self)
        case .i32: Double(pointer.load(fromByteOffset: i * 4, as: Int32.self))
        case .i64: Double(pointer.load(fromByteOffset: i * 8, as: Int64.self))
        case .bool, .u8: Double(pointer.load(fromByteOffset: i, as: UInt8.self))
        }
    }

    /// Stores a Double into element `i`, converting as the dtype requires.
    func store(_ value: Double, at i: Int) {
        switch dtype {
        case .f32: pointer.storeBytes(of: Float(value), toByteOffset: i * 4, as: Float.self)
        case .f64: pointer.storeBytes(of: value, toByteOffset: i * 8, as: Double.self)
        case .i32: pointer.storeBytes(of: Int32(truncatingIfNeeded: Self.integer(value)), toByteOffset: i * 4, as: Int32.self)
        case .i64: pointer.storeBytes(of: Int64(Self.integer(value)), toByteOffset: i * 8, as: Int64.self)
        case .bool: pointer.storeBytes(of: value != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
        case .u8: pointer.storeBytes(of: UInt8(truncatingIfNeeded: Self.integer(value)), toByteOffset: i, as: UInt8.self)
        }
    }

    /// Rounds toward zero; NaN and infinities become 0 (never a trap).
    static func integer(_ value: Double) -> Int {
        guard value.isFinite else { return 0 }
        let clamped = max(-9.2e18, min(9.2e18, value.rounded(.towardZero)))
        return Int(clamped)
    }

    /// Row-major strides of the shape, in elements.
    var strides: [Int] { Self.strides(of: shape) }

    static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }
}
