import DLMGraph
import Dispatch
import Foundation

/// An elementwise op's scalar expression compiled to a short register
/// program, run over chunks of elements so each instruction is a tight loop
/// over contiguous memory. This is how the interpreter honours "one
/// definition per op": it executes the op's `ScalarExpr`, never a second
/// hand-written kernel.
struct ElementwiseProgram: Sendable {
    enum Instruction: Sendable {
        case load(Int)
        case constant(Double)
        case unary(ScalarUnaryOp, Int)
        case binary(ScalarBinaryOp, Int, Int)
        case select(Int, Int, Int)
        case cast(Int, DType)
    }

    /// Instruction i writes register i; the last register is the result.
    private(set) var instructions: [Instruction] = []

    /// Elements per chunk: small enough that all registers stay in L1/L2.
    static let chunk = 512

    /// Compiles `expression`, resolving attribute references to constants.
    init(_ expression: ScalarExpr, attributes: [String: Attribute]) {
        var loads: [Int: Int] = [:]
        _ = emit(expression, attributes: attributes, loads: &loads)
    }

    private mutating func emit(_ expression: ScalarExpr, attributes: [String: Attribute], loads: inout [Int: Int]) -> Int {
        switch expression {
        case .arg(let index):
            if let register = loads[index] { return register }
            instructions.append(.load(index))
            loads[index] = instructions.count - 1
        case .constant(let value):
            instructions.append(.constant(value))
        case .attribute(let name):
            instructions.append(.constant(attributes[name]?.numericValue ?? .nan))
        case .unary(let op, let operand):
            let a = emit(operand, attributes: attributes, loads: &loads)
            instructions.append(.unary(op, a))
        case .binary(let op, let lhs, let rhs):
            let a = emit(lhs, attributes: attributes, loads: &loads)
            let b = emit(rhs, attributes: attributes, loads: &loads)
            instructions.append(.binary(op, a, b))
        case .select(let condition, let lhs, let rhs):
            let c = emit(condition, attributes: attributes, loads: &loads)
            let a = emit(lhs, attributes: attributes, loads: &loads)
            let b = emit(rhs, attributes: attributes, loads: &loads)
            instructions.append(.select(c, a, b))
        case .cast(let operand, let dtype):
            let a = emit(operand, attributes: attributes, loads: &loads)
            instructions.append(.cast(a, dtype))
        }
        return instructions.count - 1
    }

    /// Runs the program over equally shaped inputs into `output`.
    func run(inputs: [BufferView], output: BufferView, pool: ThreadPool) {
        run(inputs: inputs.map { ProgramInput($0) }, output: output, pool: pool)
    }

    /// Runs the program into `output`; each input is read contiguously or
    /// through broadcast strides over the output's index space. Floats are
    /// computed in their own precision; integers and bools in double precision
    /// with integer division truncating toward zero.
    func run(inputs: [ProgramInput], output: BufferView, pool: ThreadPool) {
        let count = output.count
        guard count > 0 else { return }
        let operandTypes = inputs.map(\.view.dtype).filter { $0 != .bool }
        let integer = operandTypes.first.map { $0.isInteger } ?? false
        let single = inputs.allSatisfy { $0.view.dtype == .f32 || $0.view.dtype == .bool } && (output.dtype == .f32 || output.dtype == .bool)
        let chunks = (count + Self.chunk - 1) / Self.chunk
        pool.parallelFor(chunks, minimumWork: max(1, (1 << 15) / Self.chunk)) { range in
            if single {
                runChunks(Float.self, range, count: count, inputs: inputs, output: output, integer: false)
            } else {
                runChunks(Double.self, range, count: count, inputs: inputs, output: output, integer: integer)
            }
        }
    }

    private func runChunks<T: ScalarMath>(_: T.Type, _ chunkRange: Range<Int>, count: Int, inputs: [ProgramInput],
                                          output: BufferView, integer: Bool) {
        let registerCount = instructions.count
        withUnsafeTemporaryAllocation(of: T.self, capacity: registerCount * Self.chunk) { scratch in
            guard let base = scratch.baseAddress else { return }
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<T>.self, capacity: registerCount) { registers in
                // Each register points at its scratch chunk; constants are filled once, and
                // loads of inputs already in the working type point straight into the input.
                for r in 0..<registerCount {
                    registers[r] = base + r * Self.chunk
                    if case .constant(let value) = instructions[r] {
                        let v = T(value)
                        for i in 0..<Self.chunk { registers[r][i] = v }
                    }
                }
                for chunkIndex in chunkRange {
                    let start = chunkIndex * Self.chunk
                    let n = min(Self.chunk, count - start)
                    for (r, instruction) in instructions.enumerated() {
                        let out = base + r * Self.chunk
                        switch instruction {
                        case .load(let index):
                            let input = inputs[index].view
                            if let broadcast = inputs[index].broadcast {
                                broadcast.load(input, from: start, count: n, into: out)
                            } else if T.self == Float.self && input.dtype == .f32 {
                                registers[r] = UnsafeMutableRawPointer(input.typed(Float.self) + start).assumingMemoryBound(to: T.self)
                            } else if T.self == Double.self && input.dtype == .f64 {
                                registers[r] = UnsafeMutableRawPointer(input.typed(Double.self) + start).assumingMemoryBound(to: T.self)
                            } else {
                                load(input, from: start, count: n, into: out)
                            }
                        case .constant:
                            break
                        case .unary(let op, let a):
                            T.apply(op, registers[a], out, n)
                        case .binary(let op, let a, let b):
                            T.apply(op, registers[a], registers[b], out, n, integer: integer)
                        case .select(let c, let a, let b):
                            let cp = registers[c], ap = registers[a], bp = registers[b]
                            for i in 0..<n { out[i] = cp[i] != 0 ? ap[i] : bp[i] }
                        case .cast(let a, let dtype):
                            let ap = registers[a]
                            for i in 0..<n { out[i] = T(ScalarExpr.convert(ap[i].double, to: dtype)) }
                        }
                    }
                    store(registers[registerCount - 1], into: output, at: start, count: n)
                }
            }
        }
    }

    /// Registers `evaluate(rowInputs:…)` needs.
    var registerCount: Int { instructions.count }

    /// Evaluates over `n` contiguous f32 values per input into `output`, on
    /// one thread with caller-provided registers (`registerCount × chunk`
    /// floats): the row kernel's inner step.
    func evaluate(rowInputs: UnsafeMutablePointer<UnsafeMutablePointer<Float>>, count n: Int,
                  into output: UnsafeMutablePointer<Float>, registers base: UnsafeMutablePointer<Float>) {
        var start = 0
        while start < n {
            let m = min(Self.chunk, n - start)
            var last = base
            for (r, instruction) in instructions.enumerated() {
                let out = base + r * Self.chunk
                switch instruction {
                case .load(let index):
                    out.update(from: rowInputs[index] + start, count: m)
                case .constant(let value):
                    let v = Float(value)
                    for i in 0..<m { out[i] = v }
                case .unary(let op, let a):
                    Float.apply(op, base + a * Self.chunk, out, m)
                case .binary(let op, let a, let b):
                    Float.apply(op, base + a * Self.chunk, base + b * Self.chunk, out, m, integer: false)
                case .select(let c, let a, let b):
                    let cp = base + c * Self.chunk, ap = base + a * Self.chunk, bp = base + b * Self.chunk
                    for i in 0..<m { out[i] = cp[i] != 0 ? ap[i] : bp[i] }
                case .cast(let a, let dtype):
                    let ap = base + a * Self.chunk
                    for i in 0..<m { out[i] = Float(ScalarExpr.convert(Double(ap[i]), to: dtype)) }
                }
                last = out
            }
            (output + start).update(from: last, count: m)
            start += m
        }
    }

    private func load<T: ScalarMath>(_ view: BufferView, from start: Int, count n: Int, into out: UnsafeMutablePointer<T>) {
        switch view.dtype {
        case .f32:
            let p = view.typed(Float.self) + start
            if T.self == Float.self {
                UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: n * 4)
            } else {
                for i in 0..<n { out[i] = T(Double(p[i])) }
            }
        case .f64:
            let p = view.typed(Double.self) + start
            for i in 0..<n { out[i] = T(p[i]) }
        case .i32:
            let p = view.typed(Int32.self) + start
            for i in 0..<n { out[i] = T(Double(p[i])) }
        case .i64:
            let p = view.typed(Int64.self) + start
            for i in 0..<n { out[i] = T(Double(p[i])) }
        case .bool, .u8:
            let p = view.typed(UInt8.self) + start
            for i in 0..<n { out[i] = T(Double(p[i])) }
        }
    }

    private func store<T: ScalarMath>(_ values: UnsafeMutablePointer<T>, into view: BufferView, at start: Int, count n: Int) {
        switch view.dtype {
        case .f32:
            let p = view.typed(Float.self) + start
            if T.self == Float.self {
                if UnsafeMutableRawPointer(p) != UnsafeMutableRawPointer(values) { UnsafeMutableRawPointer(p).copyMemory(from: values, byteCount: n * 4) }
            } else {
                for i in 0..<n { p[i] = values[i].float }
            }
        case .f64:
            let p = view.typed(Double.self) + start
            for i in 0..<n { p[i] = values[i].double }
        case .i32:
            let p = view.typed(Int32.self) + start
            for i in 0..<n { p[i] = Int32(truncatingIfNeeded: BufferView.integer(values[i].double)) }
        case .i64:
            let p = view.typed(Int64.self) + start
            for i in 0..<n { p[i] = Int64(BufferView.integer(values[i].double)) }
        case .bool:
            let p = view.typed(UInt8.self) + start
            for i in 0..<n { p[i] = values[i] != 0 ? 1 : 0 }
        case .u8:
            let p = view.typed(UInt8.self) + start
            for i in 0..<n { p[i] = UInt8(truncatingIfNeeded: BufferView.integer(values[i].double)) }
        }
    }
}

/// An operand of an elementwise program: a buffer read in the output's
/// index order, directly or through broadcast strides.
struct ProgramInput: @unchecked Sendable {
    let view: BufferView
    let broadcast: BroadcastIndexer?

    /// An input with the output's shape.
    init(_ view: BufferView) {
        self.view = view
        broadcast = nil
    }

    /// An input broadcast (NumPy rules) to `outputShape`.
    init(_ view: BufferView, broadcastTo outputShape: [Int]) {
        self.view = view
        broadcast = view.shape == outputShape ? nil : BroadcastIndexer(from: view.shape, to: outputShape)
    }

    /// An input read at `offset + Σ index[k]·strides[k]` for output index `index` (a slice).
    init(_ view: BufferView, shape outputShape: [Int], strides: [Int], offset: Int) {
        self.view = view
        broadcast = BroadcastIndexer(shape: outputShape, strides: strides, offset: offset)
    }
}

/// Maps output positions to positions in a smaller, broadcast input.
struct BroadcastIndexer: Sendable {
    let shape: [Int]
    let strides: [Int]
    /// The input element of output index 0.
    var offset = 0
    /// When only leading axes are broadcast, the input repeats with this period.
    let period: Int?

    /// Any affine map: output index `index` reads input element `offset + Σ index[k]·strides[k]`.
    init(shape: [Int], strides: [Int], offset: Int) {
        self.shape = shape
        self.strides = strides
        self.offset = offset
        period = nil
    }

    init(from inputShape: [Int], to outputShape: [Int]) {
        let padded = [Int](repeating: 1, count: outputShape.count - inputShape.count) + inputShape
        var strides = BufferView.strides(of: padded)
        for axis in padded.indices where padded[axis] == 1 { strides[axis] = 0 }
        shape = outputShape
        self.strides = strides
        // Leading-axes broadcast (a bias over [.., N]): input index = output index mod N.
        let firstKept = padded.firstIndex { $0 != 1 } ?? padded.count
        let tail = Array(padded[firstKept...])
        period = tail == Array(outputShape[firstKept...]) ? tail.reduce(1, *) : nil
    }

    func load<T: ScalarMath>(_ view: BufferView, from start: Int, count n: Int, into out: UnsafeMutablePointer<T>) {
        if let period, period > 0 {
            var j = start % period
            if T.self == Float.self && view.dtype == .f32 {
                // Copy whole runs of the repeating input (a bias row) at a time.
                let source = UnsafeMutableRawPointer(view.pointer)
                let destination = UnsafeMutableRawPointer(out)
                var i = 0
                while i < n {
                    let run = min(period - j, n - i)
                    (destination + i * 4).copyMemory(from: source + j * 4, byteCount: run * 4)
                    i += run
                    j = 0
                }
                return
            }
            if view.dtype == .f32 {
                let p = view.typed(Float.self)
                for i in 0..<n {
                    out[i] = T(Double(p[j]))
                    j += 1
                    if j == period { j = 0 }
                }
            } else {
                for i in 0..<n {
                    out[i] = T(view.load(j))
                    j += 1
                    if j == period { j = 0 }
                }
            }
            return
        }
        // The innermost axis contiguous in the input (a slice of columns): copy whole runs.
        if let last = shape.last, last > 0, strides.last == 1 {
            loadRuns(view, from: start, count: n, rowLength: last, into: out)
            return
        }
        // General case: an odometer over the output index, starting at `start`.
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var remainder = start
        var source = offset
        for axis in stride(from: rank - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = remainder % shape[axis]
            remainder /= shape[axis]
            source += index[axis] * strides[axis]
        }
        for i in 0..<n {
            out[i] = T(view.load(source))
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < shape[axis] { break }
                source -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

extension BroadcastIndexer {
    /// `load` when the innermost axis is contiguous in the input: one run per output row.
    fileprivate func loadRuns<T: ScalarMath>(_ view: BufferView, from start: Int, count n: Int, rowLength: Int,
                                             into out: UnsafeMutablePointer<T>) {
        var done = 0
        var position = start
        while done < n {
            let column = position % rowLength
            var row = position / rowLength
            var source = offset + column
            for axis in stride(from: shape.count - 2, through: 0, by: -1) {
                source += (row % shape[axis]) * strides[axis]
                row /= shape[axis]
            }
            let run = min(rowLength - column, n - done)
            if view.dtype == .f32 {
                let p = view.typed(Float.self) + source
                if T.self == Float.self {
                    UnsafeMutableRawPointer(out + done).copyMemory(from: p, byteCount: run * 4)
                } else {
                    for k in 0..<run { out[done + k] = T(Double(p[k])) }
                }
            } else {
                for k in 0..<run { out[done + k] = T(view.load(source + k)) }
            }
            done += run
            position += run
        }
    }
}

/// The scalar primitives over a float type, as loops over chunks.
protocol ScalarMath: BinaryFloatingPoint, SendableMetatype {
    init(_ value: Double)
    var double: Double { get }
    var float: Float { get }
    static func apply(_ op: ScalarUnaryOp, _ a: UnsafeMutablePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ n: Int)
    static func apply(_ op: ScalarBinaryOp, _ a: UnsafeMutablePointer<Self>, _ b: UnsafeMutablePointer<Self>,
                      _ out: UnsafeMutablePointer<Self>, _ n: Int, integer: Bool)
}

extension ScalarMath {
    static func apply(_ op: ScalarBinaryOp, _ a: UnsafeMutablePointer<Self>, _ b: UnsafeMutablePointer<Self>,
                      _ out: UnsafeMutablePointer<Self>, _ n: Int, integer: Bool) {
        switch op {
        case .add: for i in 0..<n { out[i] = a[i] + b[i] }
        case .sub: for i in 0..<n { out[i] = a[i] - b[i] }
        case .mul: for i in 0..<n { out[i] = a[i] * b[i] }
        case .div:
            if integer {
                for i in 0..<n { out[i] = b[i] == 0 ? 0 : (a[i] / b[i]).rounded(.towardZero) }
            } else {
                for i in 0..<n { out[i] = a[i] / b[i] }
            }
        case .pow: for i in 0..<n { out[i] = Self(Foundation.pow(a[i].double, b[i].double)) }
        // NaN-propagating and branch-free, so the loops vectorise.
        case .max: for i in 0..<n { out[i] = (a[i] >= b[i] || a[i].isNaN) ? a[i] : b[i] }
        case .min: for i in 0..<n { out[i] = (a[i] <= b[i] || a[i].isNaN) ? a[i] : b[i] }
        case .eq: for i in 0..<n { out[i] = a[i] == b[i] ? 1 : 0 }
        case .ne: for i in 0..<n { out[i] = a[i] != b[i] ? 1 : 0 }
        case .lt: for i in 0..<n { out[i] = a[i] < b[i] ? 1 : 0 }
        case .le: for i in 0..<n { out[i] = a[i] <= b[i] ? 1 : 0 }
        case .gt: for i in 0..<n { out[i] = a[i] > b[i] ? 1 : 0 }
        case .ge: for i in 0..<n { out[i] = a[i] >= b[i] ? 1 : 0 }
        case .and: for i in 0..<n { out[i] = a[i] != 0 && b[i] != 0 ? 1 : 0 }
        case .or: for i in 0..<n { out[i] = a[i] != 0 || b[i] != 0 ? 1 : 0 }
        }
    }
}

extension Float: ScalarMath {
    var double: Double { Double(self) }
    var float: Float { self }

    static func apply(_ op: ScalarUnaryOp, _ a: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .neg: for i in 0..<n { out[i] = -a[i] }
        case .abs: for i in 0..<n { out[i] = Swift.abs(a[i]) }
        case .exp: FastMath.exp(a, out, n)
        case .log: for i in 0..<n { out[i] = Foundation.log(a[i]) }
        case .sqrt: for i in 0..<n { out[i] = a[i].squareRoot() }
        case .tanh: FastMath.tanh(a, out, n)
        case .erf: for i in 0..<n { out[i] = Foundation.erf(a[i]) }
        case .not: for i in 0..<n { out[i] = a[i] == 0 ? 1 : 0 }
        }
    }
}

extension Double: ScalarMath {
    var double: Double { self }
    var float: Float { Float(self) }

    static func apply(_ op: ScalarUnaryOp, _ a: UnsafeMutablePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int) {
        switch op {
        case .neg: for i in 0..<n { out[i] = -a[i] }
        case .abs: for i in 0..<n { out[i] = Swift.abs(a[i]) }
        case .exp: for i in 0..<n { out[i] = Foundation.exp(a[i]) }
        case .log: for i in 0..<n { out[i] = Foundation.log(a[i]) }
        case .sqrt: for i in 0..<n { out[i] = a[i].squareRoot() }
        case .tanh: for i in 0..<n { out[i] = Foundation.tanh(a[i]) }
        case .erf: for i in 0..<n { out[i] = Foundation.erf(a[i]) }
        case .not: for i in 0..<n { out[i] = a[i] == 0 ? 1 : 0 }
        }
    }
}
