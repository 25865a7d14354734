import DLMGraph
import Foundation

/// A dense, contiguous, row-major tensor owned by Swift code: model inputs,
/// outputs and weights. Copies share storage until one is mutated.
public struct Tensor: Sendable, CustomStringConvertible {
    /// The element type.
    public let dtype: DType
    /// The concrete shape.
    public let shape: [Int]
    private(set) var storage: TensorStorage

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// The size of the data in bytes.
    public var byteCount: Int { count * dtype.byteSize }

    /// A zero-filled tensor. Throws when the shape is negative or too large.
    public init(zeros dtype: DType, shape: [Int]) throws {
        let count = try Tensor.checkedCount(shape)
        self.dtype = dtype
        self.shape = shape
        storage = TensorStorage(byteCount: count * dtype.byteSize)
    }

    /// A tensor holding a copy of raw little-endian bytes (exactly `count × size` of them).
    public init(dtype: DType, shape: [Int], bytes: UnsafeRawBufferPointer) throws {
        let count = try Tensor.checkedCount(shape)
        guard bytes.count == count * dtype.byteSize else {
            throw TensorError("expected \(count * dtype.byteSize) bytes for \(dtype.rawValue)\(shape), got \(bytes.count)")
        }
        self.dtype = dtype
        self.shape = shape
        storage = TensorStorage(byteCount: bytes.count)
        if let base = bytes.baseAddress { storage.pointer.copyMemory(from: base, byteCount: bytes.count) }
    }

    /// An f32 tensor from values (count must match the shape).
    public init(shape: [Int], scalars: [Float]) throws {
        try self.init(zeros: .f32, shape: shape)
        guard scalars.count == count else {
            throw TensorError("\(scalars.count) values do not fill shape \(shape) (\(count) elements)")
        }
        scalars.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { storage.pointer.copyMemory(from: base, byteCount: bytes.count) }
        }
    }

    /// A tensor of any dtype from doubles, converted as `cast` converts.
    public init(dtype: DType, shape: [Int], values: [Double]) throws {
        try self.init(zeros: dtype, shape: shape)
        guard values.count == count else {
            throw TensorError("\(values.count) values do not fill shape \(shape) (\(count) elements)")
        }
        let view = self.view
        for (i, v) in values.enumerated() { view.store(v, at: i) }
    }

    /// The element count of a shape, or an error for negative sizes or overflow.
    static func checkedCount(_ shape: [Int]) throws -> Int {
        var count = 1
        for n in shape {
            guard n >= 0 else { throw TensorError("negative size \(n) in shape \(shape)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product <= (1 << 40) else { throw TensorError("shape \(shape) is too large") }
            count = product
        }
        return count
    }

    /// A view for kernels (shares this tensor's memory).
    var view: BufferView { BufferView(pointer: storage.pointer, dtype: dtype, shape: shape) }

    /// Ensures the storage is not shared before a write.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = TensorStorage(copying: storage.pointer, byteCount: storage.byteCount)
        }
    }

    /// A copy with storage of its own (shared with no other tensor).
    public func uniqueCopy() -> Tensor {
        Tensor(dtype: dtype, shape: shape, storage: TensorStorage(copying: storage.pointer, byteCount: storage.byteCount))
    }

    /// Overwrites the elements with `bytes` (exactly `byteCount` of them) in
    /// place, even when other tensors share the storage: for owners that
    /// hold the only long-lived reference (a trainer's state between steps).
    package func overwrite(with bytes: UnsafeRawPointer) {
        storage.pointer.copyMemory(from: bytes, byteCount: byteCount)
    }

    /// The same elements with another shape of equal element count (no copy).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard try Tensor.checkedCount(newShape) == count else {
            throw TensorError("cannot reshape \(dtype.rawValue)\(shape) to \(newShape)")
        }
        return Tensor(dtype: dtype, shape: newShape, storage: storage)
    }

    private init(dtype: DType, shape: [Int], storage: TensorStorage) {
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
    }

    /// Element `i` (row-major) as a Double.
    public func scalar(at i: Int) throws -> Double {
        guard i >= 0 && i < count else { throw TensorError("index \(i) is out of range for \(count) elements") }
        return view.load(i)
    }

    /// Every element as a Double.
    public var scalars: [Double] { (0..<count).map(view.load) }

    /// Every element as a Float (converting from the dtype).
    public var floats: [Float] { (0..<count).map { Float(view.load($0)) } }

    /// Reads the raw bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.pointer, count: byteCount))
    }

    /// Writes the raw bytes (copying first if the storage is shared).
    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableRawBufferPointer(start: storage.pointer, count: byteCount))
    }

    /// A converted copy with another dtype (as `cast` converts).
    public func converted(to target: DType) throws -> Tensor {
        if target == dtype { return self }
        var out = try Tensor(zeros: target, shape: shape)
        out.makeUnique()
        let source = view, destination = out.view
        for i in 0..<count { destination.store(ScalarExpr.convert(source.load(i), to: target), at: i) }
        return out
    }

    /// `f32[2, 3]` plus the first few values.
    public var description: String {
        let shown = (0..<min(count, 8)).map { i -> String in
            let v = view.load(i)
            return dtype.isFloatingPoint ? String(format: "%.6g", v) : String(Int(v))
        }
        return "\(dtype.rawValue)\(shape) [\(shown.joined(separator: ", "))\(count > 8 ? ", …" : "")]"
    }

    /// Whether every element is within `atol + rtol·|expected|` of `expected`'s
    /// (NaNs must match NaNs; infinities must be equal). Returns the first mismatch's description.
    public func mismatch(against expected: Tensor, rtol: Double, atol: Double) -> String? {
        guard shape == expected.shape else { return "shape \(shape) differs from expected \(expected.shape)" }
        for i in 0..<count {
            let a = view.load(i), e = expected.view.load(i)
            if a.isNaN && e.isNaN { continue }
            if a == e { continue }
            if a.isNaN || e.isNaN || a.isInfinite || e.isInfinite || abs(a - e) > atol + rtol * abs(e) {
                return "element \(i): got \(a), expected \(e) (|diff| \(abs(a - e)) > \(atol) + \(rtol)·|expected|)"
            }
        }
        return nil
    }
}

/// A malformed tensor construction (negative sizes, wrong value counts).
public struct TensorError: Error, CustomStringConvertible, Sendable {
    /// What was wrong.
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}

