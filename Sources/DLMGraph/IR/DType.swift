/// The element type of a tensor.
public enum DType: String, CaseIterable, Hashable, Sendable {
    case f32, f64, i32, i64, bool, u8

    /// True for `f32` and `f64`.
    public var isFloatingPoint: Bool { self == .f32 || self == .f64 }

    /// True for `i32`, `i64` and `u8` (not `bool`).
    public var isInteger: Bool { self == .i32 || self == .i64 || self == .u8 }

    /// The size of one element in bytes (`bool` takes one byte).
    public var byteSize: Int {
        switch self {
        case .f32, .i32: 4
        case .f64, .i64: 8
        case .bool, .u8: 1
        }
    }
}
