import CLLVM
import DLMGraph

/// Thrown when a node or group uses something the LLVM emitter does not
/// lower yet; the plan then calls the interpreter's kernel for that node.
struct Unsupported: Error, CustomStringConvertible {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}

/// A buffer the kernel reads, addressed affinely from the kernel's output
/// index: element `offset + Σ index[k] * strides[k]` (stride 0 along broadcast dims).
struct Access: Hashable {
    /// Where the buffer is.
    let location: ValueLocation
    let dtype: DType
    var strides: [Int]
    var offset: Int
}

/// How one dim of a value is indexed from the kernel's output index:
/// `offset + scale * output[dim]`, or just `offset` when `dim` is nil
/// (a broadcast dim). Broadcasts, transposes and slices compose these.
struct AxisMap: Hashable {
    var dim: Int?
    var scale = 1
    var offset = 0

    static func identity(_ dim: Int) -> AxisMap { AxisMap(dim: dim) }
    static let zero = AxisMap(dim: nil, scale: 0, offset: 0)
}

/// Where a value's buffer lives when the compiled plan runs.
enum ValueLocation: Hashable {
    /// In the arena, at a byte offset.
    case arena(Int)
    /// In the address table (inputs, then parameters).
    case slot(Int)
    /// In the address table, with the rows of the leading dim `stride` elements
    /// apart instead of adjacent: a scan's step slice read in place from its
    /// stacked `[B, T, ...]` sequence, whose next step is `nextStep` elements on.
    /// Only elementwise reads address it.
    case rows(slot: Int, stride: Int, nextStep: Int)
    /// In a module-level constant array (a non-splat `constant`).
    case global(String)
    /// Not in memory: a per-row value a rows kernel computed before (a reduction).
    case register(Int)
}

/// One output element of an elementwise body (an elementwise node, or a
/// fused group of elementwise ops, broadcasts and constants, possibly after a
/// GEMM/convolution head) as a tree over affine loads: the elemental form a
/// loop nest evaluates per element (XLA's elemental emitter, Halide's
/// pointwise funcs). Values are identified by their graph value, so a value
/// used twice is computed once per element.
final class ElementalBody {
    indirect enum Term {
        case load(Int)                          // index into `accesses`
        case splat(Double)
        case op(Node, [ValueID])                // an elementwise node and its operand values
    }

    /// The output shape of the kernel (its index space).
    let shape: [Int]
    private(set) var accesses: [Access] = []
    private(set) var terms: [ValueID: Term] = [:]
    private(set) var dtypes: [ValueID: DType] = [:]
    let root: ValueID

    /// Builds the tree of `root` in `graph` (a group body or the plan graph).
    /// `leaf` says where a value that is not computed here lives (`nil`: compute it from its node);
    /// `shapeOf` gives concrete shapes.
    init(root: ValueID, in graph: Graph, shape: [Int], bindings: [String: Int], leaf: (ValueID) -> ValueLocation?,
         shapeOf: (ValueID) throws -> [Int], constants: (Node) -> ValueLocation) throws {
        self.shape = shape
        self.root = root
        var producers: [ValueID: Node] = [:]
        for node in graph.nodes { for result in node.results { producers[result] = node } }
        // Each value's map from its own dims to output dims.
        var work: [(ValueID, [AxisMap])] = [(root, shape.indices.map(AxisMap.identity))]
        var seen: [ValueID: [AxisMap]] = [:]
        // A broadcast, transpose or slice of a stored value is a load of it at the composed
        // indexing (so one input may be read at several: a cell's gates sliced from one GEMM).
        func read(_ node: Node, _ operand: ValueID, _ operandMap: [AxisMap]) throws {
            let value = node.results[0]
            if let location = leaf(operand) {
                terms[value] = .load(access(location, graph.type(of: operand).dtype, try shapeOf(operand), operandMap))
            } else {
                terms[value] = .op(node, [operand])
                work.append((operand, operandMap))
            }
        }
        while let (value, map) = work.popLast() {
            if let previous = seen[value] {
                guard previous == map else { throw Unsupported("a value is read at two different indexings") }
                continue
            }
            seen[value] = map
            let type = graph.type(of: value)
            dtypes[value] = type.dtype
            let valueShape = try shapeOf(value)
            if let location = leaf(value) {
                terms[value] = .load(access(location, type.dtype, valueShape, map))
                continue
            }
            guard let node = producers[value] else { throw Unsupported("value \(value) has no producer") }
            if node.op.isElementwise {
                terms[value] = .op(node, node.operands)
                for operand in node.operands { work.append((operand, map)) }
                continue
            }
            switch node.op {
            case .constant:
                guard case .floats(let values)? = node.attributes["values"] else { throw Unsupported("constant without values") }
                if values.count == 1 {
                    terms[value] = .splat(values[0])
                } else {
                    terms[value] = .load(access(constants(node), type.dtype, valueShape, map))
                }
            case .broadcast:
                let operand = node.operands[0]
                let operandShape = try shapeOf(operand)
                let offset = valueShape.count - operandShape.count
                let operandMap: [AxisMap] = operandShape.indices.map { j in
                    operandShape[j] == 1 ? .zero : map[j + offset]
                }
                try read(node, operand, operandMap)
            case .transpose:
                guard case .ints(let permutation)? = node.attributes["permutation"], permutation.count == map.count else {
                    throw Unsupported("transpose without a permutation")
                }
                var operandMap = [AxisMap](repeating: .zero, count: map.count)
                for (i, axis) in permutation.enumerated() where operandMap.indices.contains(axis) { operandMap[axis] = map[i] }
                try read(node, node.operands[0], operandMap)
            case .slice:
                // operand[d] = start[d] + step[d] * value[d]
                guard case .dims(let starts)? = node.attributes["starts"], case .ints(let steps)? = node.attributes["steps"],
                      starts.count == map.count, steps.count == map.count else { throw Unsupported("slice without starts/steps") }
                let operandMap = try map.indices.map { d -> AxisMap in
                    let start = try starts[d].evaluate(bindings)
                    return AxisMap(dim: map[d].dim, scale: map[d].scale * steps[d], offset: start + steps[d] * map[d].offset)
                }
                try read(node, node.operands[0], operandMap)
            default:
                throw Unsupported("'\(node.op.rawValue)' inside an elementwise kernel")
            }
        }
    }

    /// When the root is `product + x` (either order), with the product read from `product` and
    /// `x` read straight from memory: the access of `x`. A GEMM can then start its sums from
    /// `x` instead of adding it in a pass of its own.
    func addend(of product: ValueLocation) -> Int? {
        guard case .op(let node, let operands)? = terms[root], node.op == .add, operands.count == 2 else { return nil }
        var loads: [Int] = []
        for operand in operands {
            guard case .load(let a)? = terms[operand] else { return nil }
            loads.append(a)
        }
        let others = loads.filter { accesses[$0].location != product }
        guard loads.count - others.count == 1, let addend = others.first, accesses[addend].dtype == dtypes[root] else { return nil }
        return addend
    }

    /// The access the root is, when the body only moves elements (broadcast,
    /// transpose, slice, no arithmetic): such a kernel copies the stored bits,
    /// so 64-bit integers are not rounded through a double.
    var movedAccess: Int? {
        var value = root
        while let term = terms[value] {
            switch term {
            case .load(let access): return dtypes[value] == accesses[access].dtype ? access : nil
            case .op(let node, let operands) where !node.op.isElementwise && operands.count == 1: value = operands[0]
            default: return nil
            }
        }
        return nil
    }

    private func access(_ location: ValueLocation, _ dtype: DType, _ valueShape: [Int], _ map: [AxisMap]) -> Int {
        var strides = [Int](repeating: 0, count: shape.count)
        var offset = 0
        var running = 1
        for d in stride(from: valueShape.count - 1, through: 0, by: -1) {
            if d == 0, case .rows(_, let rowStride, _) = location { running = rowStride }
            if let k = map[d].dim, valueShape[d] != 1 { strides[k] += running * map[d].scale }
            offset += running * map[d].offset
            running *= valueShape[d]
        }
        let access = Access(location: location, dtype: dtype, strides: strides, offset: offset)
        if let existing = accesses.firstIndex(of: access) { return existing }
        accesses.append(access)
        return accesses.count - 1
    }

    /// The output's index space with size-1 dims dropped and neighbouring
    /// dims merged wherever every access (and the output) walks them as one,
    /// so loops are few and the innermost one is long.
    func collapsed(outputStrides given: [Int]? = nil) -> (shape: [Int], accessStrides: [[Int]], outputStrides: [Int]) {
        let outputStrides = given ?? rowMajorStrides(shape)
        var dims: [(size: Int, strides: [Int], output: Int)] = []
        for d in shape.indices where shape[d] != 1 {
            dims.append((shape[d], accesses.map { $0.strides[d] }, outputStrides[d]))
        }
        var merged: [(size: Int, strides: [Int], output: Int)] = []
        for dim in dims {
            if let last = merged.last, last.output == dim.output * dim.size,
               zip(last.strides, dim.strides).allSatisfy({ $0 == $1 * dim.size }) {
                merged[merged.count - 1] = (last.size * dim.size, dim.strides, dim.output)
            } else {
                merged.append(dim)
            }
        }
        return (merged.map(\.size), accesses.indices.map { a in merged.map { $0.strides[a] } }, merged.map(\.output))
    }
}

/// Element strides of a contiguous row-major tensor of `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
    return strides
}
