import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import Foundation
import Testing

// Per-op differential tests: every op runs on the interpreter (the reference)
// and through the LLVM JIT, at -O0 (one kernel per node) and -O2 (fused
// groups), over seeded random shapes with odd sizes, size-1 and broadcast
// dims and lengths that are not multiples of the vector width, and the
// outputs must agree (`tensorDifference`: NaN matches NaN, infinities and
// integers exactly, floats to ~1e-6 relative, and the sign of zero too for
// elementwise ops). Ops the JIT does not compile run through its callbacks
// into the interpreter and must agree too. Graphs are written in textual IR,
// with parameters as graph inputs. Where -O2 would give the same graph as
// -O0, only -O0 runs, to keep LLVM's compile time (most of the run) down.

// MARK: - Graphs in textual IR

/// Builds a graph in textual IR value by value (`parseGraph` reads it back).
/// Parameters are written as graph inputs. Independent parts ("lanes") can
/// be split into graphs of their own (`components`), which LLVM compiles
/// much faster than one module holding them all.
extension IRText {
    /// `relu(conv2d(x, w) + broadcast(bias))`: a convolution group at -O2.
    mutating func convolutionWithBiasAndReLU(_ x: String, _ w: String, _ bias: String, _ attributes: String, _ shape: [Int]) -> String {
        let conv = node("conv2d", [x, w], attributes, .f32, shape)
        let biased = node("add", [conv, node("broadcast", [bias], "shape = \(IRText.list(shape))", .f32, shape)], "", .f32, shape)
        return node("relu", [biased], "", .f32, shape)
    }
}

struct IRText {
    private var inputs: [String] = []
    private var lines: [String] = []
    private var outputs: [String] = []
    private var types: [String: String] = [:]
    private var counter = 0
    private var inputValues: [String] = []
    private var lineValues: [(result: String, operands: [String])] = []

    static func type(_ dtype: DType, _ shape: [Int]) -> String {
        "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: ", "))]"
    }

    /// An IR literal for a float attribute (always with a fraction or exponent).
    static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        var text = "\(value)".replacingOccurrences(of: "e+", with: "e")
        if !text.contains(".") && !text.contains("e") { text += ".0" }
        return text
    }

    static func list(_ values: [Int]) -> String { "[\(values.map(String.init).joined(separator: ", "))]" }

    mutating func input(_ name: String, _ dtype: DType, _ shape: [Int]) -> String {
        let type = Self.type(dtype, shape)
        inputs.append("%\(name): \(type)")
        inputValues.append("%\(name)")
        types["%\(name)"] = type
        return "%\(name)"
    }

    @discardableResult
    mutating func node(_ op: String, _ operands: [String], _ attributes: String = "", _ dtype: DType, _ shape: [Int]) -> String {
        let name = "%v\(counter)"
        counter += 1
        let type = Self.type(dtype, shape)
        lines.append("  \(name) = \(op)(\(operands.joined(separator: ", ")))\(attributes.isEmpty ? "" : " {\(attributes)}") : \(type)")
        lineValues.append((name, operands))
        types[name] = type
        return name
    }

    /// The graph split into parts connected through computed values (a graph input read by several parts is
    /// an input of each): each part's IR and the names of its inputs.
    var components: [(text: String, inputs: Set<String>)] {
        var parent: [String: String] = [:]
        func find(_ v: String) -> String {
            var v = v
            while let p = parent[v], p != v { v = p }
            return v
        }
        func union(_ a: String, _ b: String) { parent[find(a)] = find(b) }
        for value in inputValues { parent[value] = value }
        let graphInputs = Set(inputValues)
        for (result, operands) in lineValues {
            parent[result] = result
            for operand in operands where !graphInputs.contains(operand) { union(operand, result) }
        }
        var roots: [String] = []
        for output in outputs where !roots.contains(find(output)) { roots.append(find(output)) }
        return roots.map { root in
            var part = IRText()
            part.types = types
            var used = Set(outputs.filter { find($0) == root })
            for (line, value) in zip(lines, lineValues) where find(value.result) == root {
                part.lines.append(line)
                used.formUnion(value.operands)
            }
            for (value, text) in zip(inputValues, inputs) where used.contains(value) { part.inputs.append(text) }
            part.outputs = outputs.filter { find($0) == root }
            return (part.text, Set(inputValues.filter(used.contains).map { String($0.dropFirst()) }))
        }
    }

    mutating func output(_ value: String) { outputs.append(value) }

    var text: String {
        let header = "graph @G(\(inputs.joined(separator: ", "))) -> (\(outputs.map { types[$0] ?? "?" }.joined(separator: ", "))) {"
        return ([header] + lines + ["  return \(outputs.joined(separator: ", "))", "}"]).joined(separator: "\n") + "\n"
    }
}

// MARK: - Values

/// Which values an input holds.
enum Domain {
    /// Floats in [-3, 3); integers in [-20, 20] (zero included); random bools.
    case general
    /// A few values that collide often, so comparisons and selects see both outcomes (and NaN, ±inf, -0).
    case discrete
    /// NaN, ±inf, huge, tiny, subnormal, ±0 and the boundaries of exp/tanh's ranges.
    case special
    /// Integers near and beyond the 32-bit range; floats in ±1e4.
    case wide
    /// The first half special (floats) or wide (integers), the rest discrete.
    case mixed
}

enum Values {
    /// Special floats, in f64; stored to f32 they round (1e300 → inf, f64 subnormals → 0).
    static let specials: [Double] = [
        .nan, -.nan, .infinity, -.infinity, 0.0, -0.0, 1, -1, 0.5, -0.5, 2, -2, 1e-45, -1e-45, 1e-40, 1.2e-38,
        1e-30, 1e-7, -1e-7, 0.624, 0.626, -0.625, 9.5, 20, -20.5, 88.7, 88.73, 89, -87.3, -103.9, -104, -110,
        1e4, -1e4, 3.4e38, -3.4e38, 1e300, -1e300, .leastNonzeroMagnitude, .leastNormalMagnitude / 4, 700, 710, -745, -746,
    ]

    static func make(_ dtype: DType, _ count: Int, _ domain: Domain, _ random: inout RandomSource) -> [Double] {
        if domain == .mixed {
            let half = count / 2
            return make(dtype, half, dtype.isFloatingPoint ? .special : .wide, &random) + make(dtype, count - half, .discrete, &random)
        }
        return (0..<count).map { i in
            switch (dtype, domain) {
            case (.bool, _): return Double(random.next() % 2)
            case (.f32, .general), (.f64, .general): return random.uniform(-3, 3)
            case (.f32, .wide), (.f64, .wide): return random.uniform(-1e4, 1e4)
            case (.f32, .special), (.f64, .special):
                // Every special once, in order, then random specials.
                return i < specials.count ? specials[i] : specials[Int(random.next() % UInt64(specials.count))]
            case (.f32, .discrete), (.f64, .discrete):
                let choices: [Double] = [-2, -1, -0.0, 0, 0.5, 1, 1, 2, 2, .nan, .infinity, -.infinity]
                return choices[Int(random.next() % UInt64(choices.count))]
            case (_, .discrete): return Double(Int(random.next() % 5) - 2)
            case (_, .wide):
                let choices: [Double] = [2_147_483_647, -2_147_483_648, 2_000_000_000, -2_000_000_000, 65_536, 46_341, -1, 0, 3]
                return choices[Int(random.next() % UInt64(choices.count))] + (dtype == .i64 ? Double(random.next() % 1000) * 1e12 : 0)
            default: return Double(Int(random.next() % 41) - 20)
            }
        }
    }

    static func tensor(_ dtype: DType, _ shape: [Int], _ domain: Domain, _ random: inout RandomSource) throws -> Tensor {
        try Tensor(dtype: dtype, shape: shape, values: make(dtype, shape.reduce(1, *), domain, &random))
    }

    /// An i64 tensor holding exactly these integers (beyond 2^53 too).
    static func int64(_ shape: [Int], _ values: [Int64]) throws -> Tensor {
        try values.withUnsafeBytes { try Tensor(dtype: .i64, shape: shape, bytes: $0) }
    }

    /// i64 values a double cannot hold exactly.
    static let hugeInt64: [Int64] = [.max, .min, (1 << 53) + 1, -(1 << 53) - 1, (1 << 62) + 12_345, -(1 << 60) - 7, 1, 0, -1,
                                     9_200_000_000_000_000_001, 123_456_789_012_345_679]

    static func hugeInt64Tensor(_ shape: [Int], _ random: inout RandomSource) throws -> Tensor {
        let count = shape.reduce(1, *)
        return try int64(shape, (0..<count).map { i in i < hugeInt64.count ? hugeInt64[i] : Int64(bitPattern: random.next()) })
    }
}

// MARK: - Shapes

enum Shapes {
    /// Sizes: odd, 1, and around the 16-float vector width.
    static let sizes = [1, 3, 7, 17, 33, 100, 16, 15, 2, 5]

    /// A shape of rank 1...4 with at most `limit` elements.
    static func random(_ random: inout RandomSource, maxRank: Int = 4, limit: Int = 4000) -> [Int] {
        while true {
            let rank = 1 + Int(random.next() % UInt64(maxRank))
            let shape = (0..<rank).map { _ in sizes[Int(random.next() % UInt64(sizes.count))] }
            if shape.reduce(1, *) <= limit { return shape }
        }
    }

    /// A shape that broadcasts to `shape` (NumPy rules): some dims 1, maybe fewer leading dims.
    static func broadcastSource(of shape: [Int], _ random: inout RandomSource) -> [Int] {
        var source = shape.map { random.next() % 3 == 0 ? 1 : $0 }
        if !source.isEmpty && random.next() % 3 == 0 { source.removeFirst(Int(random.next() % UInt64(source.count + 1))) }
        return source
    }
}

/// One independent computation in a test graph: its output shape, the shape
/// each operand is read at before being broadcast to it, and its values.
struct Lane {
    var shape: [Int]
    var sources: [[Int]]
    var domain: Domain

    /// Lanes for an op of `arity` operands: 100 elements (half specials for
    /// floats or wide values for integers, half values that collide often), a
    /// random shape with broadcast operands, with `small` 15 elements (few
    /// enough that -O0 may compute in place), and for f32 and bool rank 0.
    /// (Kernels big enough for the JIT to split across threads: `largeKernels`.)
    static func standard(arity: Int, dtype: DType, seed: String, small: Bool = false, randomCount: Int = 1) -> [Lane] {
        var random = RandomSource(seed: 7, name: seed)
        var lanes = [Lane(shape: [100], sources: Array(repeating: [100], count: arity), domain: dtype == .bool ? .general : .mixed)]
        if small { lanes.append(Lane(shape: [3, 5], sources: Array(repeating: [3, 5], count: arity), domain: .discrete)) }
        if dtype == .f32 || dtype == .bool { lanes.append(Lane(shape: [], sources: Array(repeating: [], count: arity), domain: .general)) }
        for _ in 0..<randomCount {
            let shape = Shapes.random(&random, limit: 2000)
            let sources = (0..<arity).map { _ in random.next() % 2 == 0 ? shape : Shapes.broadcastSource(of: shape, &random) }
            lanes.append(Lane(shape: shape, sources: sources, domain: random.next() % 3 == 0 ? .discrete : .general))
        }
        return lanes
    }
}

/// An operand read at `source` and broadcast to `shape` if they differ.
private func operand(_ ir: inout IRText, _ name: String, _ dtype: DType, source: [Int], shape: [Int]) -> String {
    let value = ir.input(name, dtype, source)
    return source == shape ? value : ir.node("broadcast", [value], "shape = \(IRText.list(shape))", dtype, shape)
}

// MARK: - Running both backends

/// How closely the JIT must match.
struct Agreement {
    var levels = [0, 2]
    var rtol = 1e-6
    var atol = 0.0
    var signedZeros = true
    /// Every node must compile to native code (no interpreter callbacks).
    var native = false
    /// The level the interpreter runs at, when not the JIT's.
    var referenceLevel: Int?
}

/// Runs the graph in `ir` on the interpreter and on the JIT at each level
/// (each backend on its own copy), for each input set in turn on the same
/// executor (a new plan whenever sizes change), twice per set (the second
/// run reuses the compiled plan), and records an issue for every output
/// that differs. Returns the JIT's reports.
@discardableResult
func expectJITAgrees(_ ir: String, _ inputSets: [[String: Tensor]], _ agreement: Agreement = Agreement(),
                     sourceLocation: SourceLocation = #_sourceLocation) -> [JITReport] {
    var reports: [JITReport] = []
    for level in agreement.levels {
        do {
            let reference = try parseGraph(ir), compiled = try parseGraph(ir)
            try PassManager(pipeline: .level(agreement.referenceLevel ?? level), verifiesEachPass: true).run(reference)
            try PassManager(pipeline: .level(level)).run(compiled)
            let optimized = GraphPrinter().print(compiled)
            let interpreter = try Interpreter(graph: reference, parameters: [:], pool: testPool)
            // No disk cache: every run compiles, so the code under test is what the emitter makes now.
            let executor = try ModelExecutor(graph: compiled, parameters: [:], backend: .jit, pool: testPool, cache: .off)
            for (set, inputs) in inputSets.enumerated() {
                let expected = try interpreter.run(inputs)
                for attempt in 1...2 {
                    let actual: [Tensor]
                    do {
                        actual = try executor.run(inputs)
                    } catch {
                        Issue.record("-O\(level), input set \(set): the JIT failed: \(error)\n\(optimized)", sourceLocation: sourceLocation)
                        break
                    }
                    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
                    for (index, (a, e)) in zip(actual, expected).enumerated() {
                        if let difference = tensorDifference(a, e, rtol: agreement.rtol, atol: agreement.atol, signedZeros: agreement.signedZeros) {
                            Issue.record("-O\(level), input set \(set), run \(attempt), output \(index): \(difference)\n\(optimized)",
                                         sourceLocation: sourceLocation)
                        }
                    }
                }
            }
            for report in executor.reports {
                #expect(report.failure == nil, "-O\(level): \(report.failure ?? "")\n\(optimized)", sourceLocation: sourceLocation)
                if agreement.native {
                    let interpreted = report.interpretedNodes.map { "node \($0.node) (\($0.op)): \($0.reason)" }
                    #expect(interpreted.isEmpty, "-O\(level): on the interpreter: \(interpreted.joined(separator: "; "))\n\(optimized)",
                            sourceLocation: sourceLocation)
                }
            }
            reports += executor.reports
        } catch {
            Issue.record("-O\(level): \(error)\n\(ir)", sourceLocation: sourceLocation)
        }
    }
    return reports
}

/// `expectJITAgrees` for the graph built in `ir`, or (`split`) for each of its connected parts on its own:
/// LLVM's time grows faster than linearly with a module's kernels, but each module also has a fixed cost,
/// so graphs of a few small kernels compile fastest whole and graphs of many or big kernels split.
func expectJITAgrees(_ ir: IRText, _ inputs: [String: Tensor], _ agreement: Agreement = Agreement(), split: Bool = false,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    guard split else {
        expectJITAgrees(ir.text, [inputs], agreement, sourceLocation: sourceLocation)
        return
    }
    for (text, names) in ir.components {
        expectJITAgrees(text, [inputs.filter { names.contains($0.key) }], agreement, sourceLocation: sourceLocation)
    }
}

/// An op (by IR name) at a dtype, as a test argument.
struct OpCase: Sendable, CustomTestStringConvertible {
    let op: String
    let dtype: DType
    var testDescription: String { "\(op) \(dtype.rawValue)" }
}

/// The dtypes at which `op`'s type rule accepts `arity` operands of one type.
private func acceptedDTypes(_ op: OpCode, arity: Int) -> [DType] {
    [DType.f32, .f64, .i32, .i64, .bool].filter { dtype in
        let type = TensorType(dtype, Shape([.constant(3)]))
        return (try? op.definition.check(Array(repeating: type, count: arity), [:], [])) != nil
    }
}

private func resultDType(_ op: OpCode, _ dtype: DType, arity: Int) -> DType {
    let type = TensorType(dtype, Shape([.constant(3)]))
    return (try? op.definition.check(Array(repeating: type, count: arity), [:], []))?.first?.dtype ?? dtype
}

// MARK: - Tests

@Suite struct OpDifferentialTests {
    static let unaryOps: [OpCode] = OpCode.allCases.filter { $0.isElementwise && $0 != .cast && $0.definition.arity == .fixed(1) }
    static let binaryOps: [OpCode] = OpCode.allCases.filter { $0.isElementwise && $0.definition.arity == .fixed(2) }
    static let unaryCases = unaryOps.flatMap { op in acceptedDTypes(op, arity: 1).map { OpCase(op: op.rawValue, dtype: $0) } }
    static let binaryCases = binaryOps.flatMap { op in acceptedDTypes(op, arity: 2).map { OpCase(op: op.rawValue, dtype: $0) } }

    /// Every elementwise op of `OpCode` is covered, at every dtype its type rule accepts.
    @Test func everyElementwiseOpIsCovered() {
        let covered = Set(Self.unaryCases.map(\.op) + Self.binaryCases.map(\.op) + ["select", "cast"])
        let elementwise = Set(OpCode.allCases.filter(\.isElementwise).map(\.rawValue))
        #expect(elementwise.subtracting(covered).isEmpty, "not covered: \(elementwise.subtracting(covered).sorted())")
        #expect(Self.unaryCases.count >= 25 && Self.binaryCases.count >= 40)
    }

    /// Every lane at -O0; at -O2 only the lanes with a broadcast operand (fused with the op there;
    /// the others are the same single node at both levels), and only for f32, i32 and bool (the fused
    /// loads and stores of the other dtypes are those -O0's broadcast kernels use).
    private func expectLanesAgree(_ lanes: [Lane], dtype: DType, seed: String, sourceLocation: SourceLocation = #_sourceLocation,
                                  _ build: (inout IRText, inout [String: Tensor], String, Lane, inout RandomSource) throws -> Void) throws {
        for level in [DType.f32, .i32, .bool].contains(dtype) ? [0, 2] : [0] {
            var ir = IRText()
            var inputs: [String: Tensor] = [:]
            for (index, lane) in lanes.enumerated() where level == 0 || lane.sources.contains(where: { $0 != lane.shape }) {
                var random = RandomSource(seed: 11, name: "\(seed) lane \(index)")
                try build(&ir, &inputs, "\(index)", lane, &random)
            }
            expectJITAgrees(ir, inputs, Agreement(levels: [level], native: true), sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: unaryCases)
    func unary(_ c: OpCase) throws {
        let op = try #require(OpCode(rawValue: c.op))
        let attributes = op == .leakyRelu ? "alpha = 0.2" : ""
        try expectLanesAgree(Lane.standard(arity: 1, dtype: c.dtype, seed: c.testDescription), dtype: c.dtype, seed: c.testDescription) { ir, inputs, lane, shapes, random in
            let x = operand(&ir, "x\(lane)", c.dtype, source: shapes.sources[0], shape: shapes.shape)
            inputs["x\(lane)"] = try Values.tensor(c.dtype, shapes.sources[0], shapes.domain, &random)
            ir.output(ir.node(c.op, [x], attributes, c.dtype, shapes.shape))
        }
    }

    @Test(arguments: binaryCases)
    func binary(_ c: OpCase) throws {
        let op = try #require(OpCode(rawValue: c.op))
        let result = resultDType(op, c.dtype, arity: 2)
        try expectLanesAgree(Lane.standard(arity: 2, dtype: c.dtype, seed: c.testDescription), dtype: c.dtype, seed: c.testDescription) { ir, inputs, lane, shapes, random in
            var operands: [String] = []
            for side in 0..<2 {
                let name = "\(side == 0 ? "x" : "y")\(lane)"
                operands.append(operand(&ir, name, c.dtype, source: shapes.sources[side], shape: shapes.shape))
                inputs[name] = try Values.tensor(c.dtype, shapes.sources[side], shapes.domain, &random)
            }
            ir.output(ir.node(c.op, operands, "", result, shapes.shape))
        }
    }

    /// `select` with a bool input (broadcast or not) and with a condition computed from the branches
    /// (`where(a > b, a, -b)`), at every dtype.
    @Test(arguments: [DType.f32, .f64, .i32, .i64, .bool])
    func select(_ dtype: DType) throws {
        var random = RandomSource(seed: 13, name: dtype.rawValue)
        var ir = IRText()
        var inputs: [String: Tensor] = [:]
        for (index, lane) in Lane.standard(arity: 3, dtype: dtype, seed: "select \(dtype.rawValue)", small: true).enumerated() {
            let c = operand(&ir, "c\(index)", .bool, source: lane.sources[0], shape: lane.shape)
            inputs["c\(index)"] = try Values.tensor(.bool, lane.sources[0], .general, &random)
            var branches: [String] = []
            for side in 1...2 {
                let name = "\(side == 1 ? "a" : "b")\(index)"
                branches.append(operand(&ir, name, dtype, source: lane.sources[side], shape: lane.shape))
                inputs[name] = try Values.tensor(dtype, lane.sources[side], lane.domain, &random)
            }
            ir.output(ir.node("select", [c] + branches, "", dtype, lane.shape))
            // where(a > b, a, -b): the condition dies at the select.
            if dtype != .bool {
                let greater = ir.node("gt", branches, "", .bool, lane.shape)
                let negated = ir.node("neg", [branches[1]], "", dtype, lane.shape)
                ir.output(ir.node("select", [greater, branches[0], negated], "", dtype, lane.shape))
            } else {
                let either = ir.node("logical_or", branches, "", .bool, lane.shape)
                let neither = ir.node("logical_not", [either], "", .bool, lane.shape)
                ir.output(ir.node("select", [neither, branches[0], branches[1]], "", dtype, lane.shape))
            }
        }
        // -O2 fuses the comparison, the negation and the select (the loads and stores of f64 and i64 are those of -O0).
        expectJITAgrees(ir, inputs, Agreement(levels: [DType.f32, .i32, .bool].contains(dtype) ? [0, 2] : [0], native: true))
    }

    struct CastCase: Sendable, CustomTestStringConvertible {
        let from: DType, to: DType
        var testDescription: String { "\(from.rawValue) to \(to.rawValue)" }
    }

    /// Every pair of f32, f64, i32, i64 and bool; u8 to and from f32 and i64.
    static let castCases: [CastCase] = [DType.f32, .f64, .i32, .i64, .bool].flatMap { from in
        [DType.f32, .f64, .i32, .i64, .bool].map { CastCase(from: from, to: $0) }
    } + [CastCase(from: .u8, to: .f32), CastCase(from: .u8, to: .i64), CastCase(from: .f32, to: .u8), CastCase(from: .i64, to: .u8)]

    /// `cast` between every pair of f32, f64, i32, i64, bool (and u8), of inputs and of computed values
    /// (which -O0 may convert in place), with values that round, overflow, or are NaN/inf.
    @Test(arguments: castCases)
    func cast(_ cast: CastCase) throws {
        let from = cast.from, target = cast.to
        let conversions: [Double] = [0.5, -0.5, 2.7, -2.7, 255.9, 256, 257, -1, -129, 3e9, -3e9, 2_147_483_647.5, -2_147_483_648.9,
                                     1e19, -1e19, 9.3e18, 16_777_217, 1e-40, .nan, .infinity, -.infinity, -0.0, 0]
        var random = RandomSource(seed: 14, name: cast.testDescription)
        // Shapes, and whether each converts the input itself and a computed value that dies at the cast (which -O0
        // may convert in place, and -O2 fuses with the cast).
        let lanes: [(shape: [Int], direct: Bool, computed: Bool)] = [
            ([conversions.count], true, true), ([], true, false), ([7], false, true), (Shapes.random(&random, maxRank: 3, limit: 500), true, false),
        ]
        for level in [0, 2] {
            var ir = IRText()
            var inputs: [String: Tensor] = [:]
            // At -O2 a lone cast is the same node as at -O0: only the fused ones are new there.
            for (index, lane) in lanes.enumerated() where level == 0 || (lane.computed && index == 0) {
                var values = RandomSource(seed: 14, name: "\(cast.testDescription) \(index)")
                let x = ir.input("x\(index)", from, lane.shape)
                inputs["x\(index)"] = try Tensor(dtype: from, shape: lane.shape, values: index == 0 && from.isFloatingPoint ? conversions
                    : Values.make(from, lane.shape.reduce(1, *), from.isFloatingPoint || index % 2 == 0 ? .wide : .general, &values))
                if lane.direct && level == 0 { ir.output(ir.node("cast", [x], "dtype = \(target.rawValue)", target, lane.shape)) }
                if lane.computed {
                    let computed = ir.node(from == .bool ? "logical_not" : from == .u8 ? "maximum" : "neg",
                                           from == .u8 ? [x, x] : [x], "", from, lane.shape)
                    ir.output(ir.node("cast", [computed], "dtype = \(target.rawValue)", target, lane.shape))
                }
            }
            expectJITAgrees(ir, inputs, Agreement(levels: [level], native: true))
        }
    }

    /// Widening conversions of a dying value its producer could not fuse with (a reduction, a gather; a matmul at
    /// -O0): -O2 keeps them as single nodes too, which may write over their operand. (At -O2 the matmul's cast joins
    /// it in a GEMM group: see `epiloguesThatChangeTheDType`.)
    @Test func wideningAfterUnfusedProducers() throws {
        var random = RandomSource(seed: 28)
        var ir = IRText()
        let x = ir.input("x", .f32, [3, 5]), w = ir.input("w", .f32, [5, 2]), table = ir.input("table", .bool, [4, 3])
        let ids = ir.input("ids", .i32, [2])
        let inputs = [
            "x": try Values.tensor(.f32, [3, 5], .general, &random), "w": try Values.tensor(.f32, [5, 2], .general, &random),
            "table": try Values.tensor(.bool, [4, 3], .general, &random), "ids": try Tensor(dtype: .i32, shape: [2], values: [3, 1]),
        ]
        let sums = ir.node("reduce", [x], "axes = [1], keepdims = false, kind = \"sum\"", .f32, [3])
        ir.output(ir.node("cast", [sums], "dtype = f64", .f64, [3]))
        let product = ir.node("matmul", [x, w], "", .f32, [3, 2])
        ir.output(ir.node("cast", [product], "dtype = i64", .i64, [3, 2]))
        let rows = ir.node("gather", [table, ids], "axis = 0", .bool, [2, 3])
        ir.output(ir.node("cast", [rows], "dtype = f32", .f32, [2, 3]))
        let index = ir.node("argmax", [x], "axis = 1, keepdims = false", .i64, [3])
        ir.output(ir.node("neg", [index], "", .i64, [3]))
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-6, atol: 1e-6, signedZeros: false))
    }

    /// GEMM and convolution groups whose epilogue changes the dtype (a cast, a comparison): the JIT at -O2
    /// must give what the unfused graph gives on the interpreter (at -O2 the interpreter's own fused kernel is
    /// not a trustworthy reference here, so the reference runs at -O0).
    @Test func epiloguesThatChangeTheDType() throws {
        var random = RandomSource(seed: 29)
        var ir = IRText()
        let x = ir.input("x", .f32, [33, 5]), small = ir.input("small", .f32, [3, 5]), square = ir.input("square", .f32, [5, 5])
        let w = (0..<2).map { ir.input("w\($0)", .f32, [5, 17]) }
        let image = ir.input("image", .f32, [1, 6, 6, 2]), filter = ir.input("filter", .f32, [3, 3, 2, 4])
        var inputs = [
            "x": try Values.tensor(.f32, [33, 5], .general, &random), "small": try Values.tensor(.f32, [3, 5], .general, &random),
            "square": try Values.tensor(.f32, [5, 5], .general, &random),
            "image": try Values.tensor(.f32, [1, 6, 6, 2], .general, &random), "filter": try Values.tensor(.f32, [3, 3, 2, 4], .general, &random),
        ]
        for i in 0..<2 { inputs["w\(i)"] = try Values.tensor(.f32, [5, 17], .general, &random) }
        // (Distinct weights, so the matmuls stay apart and each heads its own group.)
        ir.output(ir.node("cast", [ir.node("matmul", [x, w[0]], "", .f32, [33, 17])], "dtype = f64", .f64, [33, 17]))
        ir.output(ir.node("cast", [ir.node("matmul", [x, w[1]], "", .f32, [33, 17])], "dtype = i32", .i32, [33, 17]))
        // A bool result: at most 16 elements, so the f32 product the interpreter writes into the bool buffer stays
        // inside its 64-byte block (a larger one runs past it and corrupts the heap: [33, 17] crashes the process).
        let zero = ir.node("constant", [], "dtype = f32, shape = [], values = [0.0]", .f32, [])
        let zeros = ir.node("broadcast", [zero], "shape = [3, 5]", .f32, [3, 5])
        ir.output(ir.node("gt", [ir.node("matmul", [small, square], "", .f32, [3, 5]), zeros], "", .bool, [3, 5]))
        let conv = ir.node("conv2d", [image, filter], "", .f32, [1, 4, 4, 4])
        ir.output(ir.node("cast", [conv], "dtype = f64", .f64, [1, 4, 4, 4]))
        expectJITAgrees(ir, inputs, Agreement(levels: [2], rtol: 1e-5, atol: 1e-5, signedZeros: false, referenceLevel: 0))
    }

    static let specialCases: [OpCase] = ["exp", "tanh", "sigmoid", "log", "sqrt", "relu", "maximum", "minimum", "div"].flatMap { op in
        [DType.f32, .f64].map { OpCase(op: op, dtype: $0) }
    }

    /// NaN, ±inf, huge, tiny and -0 through the ops where they matter. Unary ops see every special at
    /// lengths 17 and 100; binary ops every pair (one operand broadcast along rows, the other along columns).
    @Test(arguments: specialCases)
    func specialValues(_ c: OpCase) throws {
        let op = try #require(OpCode(rawValue: c.op))
        let specials = Values.specials
        let n = specials.count
        var ir = IRText()
        var inputs: [String: Tensor] = [:]
        if op.definition.arity == .fixed(1) {
            for (index, length) in [17, 100].enumerated() {
                let x = ir.input("x\(index)", c.dtype, [length])
                inputs["x\(index)"] = try Tensor(dtype: c.dtype, shape: [length], values: (0..<length).map { specials[($0 + index * 5) % n] })
                ir.output(ir.node(c.op, [x], "", c.dtype, [length]))
            }
            // (A single op is the same node at -O2.)
            expectJITAgrees(ir, inputs, Agreement(levels: [0], native: true))
        } else {
            // Every pair, through broadcasts (fused with the op at -O2).
            let column = ir.input("column", c.dtype, [n, 1]), row = ir.input("row", c.dtype, [n])
            inputs["column"] = try Tensor(dtype: c.dtype, shape: [n, 1], values: specials)
            inputs["row"] = try Tensor(dtype: c.dtype, shape: [n], values: specials)
            let a = ir.node("broadcast", [column], "shape = [\(n), \(n)]", c.dtype, [n, n])
            let b = ir.node("broadcast", [row], "shape = [\(n), \(n)]", c.dtype, [n, n])
            ir.output(ir.node(c.op, [a, b], "", c.dtype, [n, n]))
            expectJITAgrees(ir, inputs, Agreement(native: true))
        }
    }

    /// Integer arithmetic: division by zero gives 0, results wrap like the interpreter's stores,
    /// and chains (fused at -O2) keep the same semantics.
    @Test(arguments: [DType.i32, .i64])
    func integerArithmetic(_ dtype: DType) throws {
        var random = RandomSource(seed: 15, name: dtype.rawValue)
        var ir = IRText()
        let shape = [7, 17]
        let x = ir.input("x", dtype, shape), y = ir.input("y", dtype, shape), z = ir.input("z", dtype, shape)
        let inputs = [
            "x": try Values.tensor(dtype, shape, .wide, &random),
            "y": try Tensor(dtype: dtype, shape: shape, values: (0..<119).map { Double($0 % 7) - 3 }),
            "z": try Values.tensor(dtype, shape, .general, &random),
        ]
        ir.output(ir.node("div", [x, y], "", dtype, shape))
        ir.output(ir.node("div", [z, y], "", dtype, shape))
        let sum = ir.node("add", [x, x], "", dtype, shape)
        let product = ir.node("mul", [sum, z], "", dtype, shape)
        let quotient = ir.node("div", [product, y], "", dtype, shape)
        ir.output(ir.node("sub", [quotient, x], "", dtype, shape))
        let absolute = ir.node("abs", [x], "", dtype, shape)
        ir.output(ir.node("maximum", [ir.node("neg", [absolute], "", dtype, shape), z], "", dtype, shape))
        expectJITAgrees(ir, inputs, Agreement(native: true))
    }

    /// Elementwise chains with mixed dtypes, broadcasts and splat constants (one fused group at -O2).
    @Test func mixedChains() throws {
        var random = RandomSource(seed: 16)
        var ir = IRText()
        let shape = [5, 33]
        let x = ir.input("x", .f32, shape), i = ir.input("i", .i32, shape), row = ir.input("row", .f64, [33])
        let inputs = [
            "x": try Values.tensor(.f32, shape, .general, &random),
            "i": try Values.tensor(.i32, shape, .general, &random),
            "row": try Values.tensor(.f64, [33], .general, &random),
        ]
        let half = ir.node("constant", [], "dtype = f32, shape = [], values = [0.5]", .f32, [])
        let halves = ir.node("broadcast", [half], "shape = [5, 33]", .f32, shape)
        let scaled = ir.node("mul", [x, halves], "", .f32, shape)
        let truncated = ir.node("cast", [scaled], "dtype = i32", .i32, shape)
        let shifted = ir.node("add", [truncated, i], "", .i32, shape)
        let wide = ir.node("cast", [shifted], "dtype = f64", .f64, shape)
        let rows = ir.node("broadcast", [row], "shape = [5, 33]", .f64, shape)
        let exponent = ir.node("exp", [ir.node("mul", [wide, rows], "", .f64, shape)], "", .f64, shape)
        let narrow = ir.node("cast", [exponent], "dtype = f32", .f32, shape)
        ir.output(ir.node("tanh", [ir.node("sub", [narrow, x], "", .f32, shape)], "", .f32, shape))
        // A float division after an integer input converted to float.
        let converted = ir.node("cast", [i], "dtype = f32", .f32, shape)
        ir.output(ir.node("div", [converted, x], "", .f32, shape))
        // Integer splat constants and a comparison feeding a select.
        let three = ir.node("constant", [], "dtype = i32, shape = [], values = [3.0]", .i32, [])
        let threes = ir.node("broadcast", [three], "shape = [5, 33]", .i32, shape)
        let positive = ir.node("gt", [i, threes], "", .bool, shape)
        ir.output(ir.node("select", [positive, ir.node("mul", [i, threes], "", .i32, shape), i], "", .i32, shape))
        expectJITAgrees(ir, inputs, Agreement(native: true))
    }

    static let broadcastCases: [OpCase] = [DType.f32, .f64, .i32, .i64, .bool].map { OpCase(op: "broadcast", dtype: $0) }

    /// `broadcast` on its own (a native copy kernel) and feeding an elementwise op, from rank 0, size-1
    /// dims and missing leading dims; i64 values beyond 2^53 must arrive unchanged.
    @Test(arguments: broadcastCases)
    func broadcast(_ c: OpCase) throws {
        var random = RandomSource(seed: 17, name: c.testDescription)
        // Every shape pair for f32 (the large one splits across threads); the index logic is the same for other dtypes.
        let pairs: [([Int], [Int])] = c.dtype == .f32
            ? [([], [3, 7]), ([1], [100]), ([3, 1], [2, 3, 17]), ([1, 1], [1, 1]), ([1, 5, 1], [4, 5, 16]), ([7, 1, 3], [7, 1601, 3])]
                + (0..<1).map { _ in let shape = Shapes.random(&random); return (Shapes.broadcastSource(of: shape, &random), shape) }
            : [([], [3, 7]), ([3, 1], [2, 3, 17]), ([1, 5, 1], [4, 5, 16])]
        for level in [0, 2] {
            var ir = IRText()
            var inputs: [String: Tensor] = [:]
            for (index, (source, target)) in pairs.enumerated() {
                // A broadcast alone is the same node at both levels; one feeding an op fuses with it at -O2.
                let alone = level == 0, feeding = index % 2 == 0
                guard alone || feeding else { continue }
                var values = RandomSource(seed: 17, name: "\(c.testDescription) \(index)")
                let x = ir.input("x\(index)", c.dtype, source)
                inputs["x\(index)"] = c.dtype == .i64 ? try Values.hugeInt64Tensor(source, &values) : try Values.tensor(c.dtype, source, .special, &values)
                if alone { ir.output(ir.node("broadcast", [x], "shape = \(IRText.list(target))", c.dtype, target)) }
                if feeding {
                    let op = c.dtype == .bool ? "logical_not" : "neg"
                    ir.output(ir.node(op, [ir.node("broadcast", [x], "shape = \(IRText.list(target))", c.dtype, target)], "", c.dtype, target))
                }
            }
            expectJITAgrees(ir, inputs, Agreement(levels: [level], native: true), split: true)
        }
    }

    static let transposeCases: [OpCase] = [DType.f32, .f64, .i32, .i64, .bool].map { OpCase(op: "transpose", dtype: $0) }

    /// `transpose` of ranks 2 to 4 with size-1 dims, on its own and feeding elementwise ops.
    @Test(arguments: transposeCases)
    func transpose(_ c: OpCase) throws {
        var random = RandomSource(seed: 18, name: c.testDescription)
        // Every case for f32 (the large one splits across threads); the index logic is the same for other dtypes.
        var cases: [([Int], [Int])] = c.dtype == .f32
            ? [([3, 17], [1, 0]), ([1, 33], [1, 0]), ([2, 3, 5], [2, 0, 1]), ([7, 1, 16], [1, 2, 0]), ([2, 3, 1, 5], [3, 1, 0, 2]),
               ([33, 1001, 3], [1, 2, 0])]
            : [([3, 17], [1, 0]), ([7, 1, 16], [1, 2, 0]), ([2, 3, 1, 5], [3, 1, 0, 2])]
        for _ in 0..<(c.dtype == .f32 ? 1 : 0) {
            let shape = Shapes.random(&random)
            var permutation = Array(shape.indices)
            for i in stride(from: permutation.count - 1, to: 0, by: -1) { permutation.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            cases.append((shape, permutation))
        }
        var ir = IRText()
        var inputs: [String: Tensor] = [:]
        for (index, (shape, permutation)) in cases.enumerated() {
            let x = ir.input("x\(index)", c.dtype, shape)
            inputs["x\(index)"] = c.dtype == .i64 ? try Values.hugeInt64Tensor(shape, &random) : try Values.tensor(c.dtype, shape, .special, &random)
            let result = permutation.map { shape[$0] }
            ir.output(ir.node("transpose", [x], "permutation = \(IRText.list(permutation))", c.dtype, result))
            // Transposed, then an elementwise op with an operand in the result's layout.
            guard index % 2 == 0 else { continue }
            let y = ir.input("y\(index)", c.dtype, result)
            inputs["y\(index)"] = try Values.tensor(c.dtype, result, .general, &random)
            let t = ir.node("transpose", [x], "permutation = \(IRText.list(permutation))", c.dtype, result)
            ir.output(ir.node(c.dtype == .bool ? "logical_and" : "maximum", [t, y], "", c.dtype, result))
        }
        // -O2 does not fuse transposes: the graph would be the same.
        expectJITAgrees(ir, inputs, Agreement(levels: [0], native: true))
    }

    /// `reshape` of inputs and of computed values, to and from rank 0 and 1.
    @Test(arguments: [DType.f32, .f64, .i32, .i64, .bool])
    func reshape(_ dtype: DType) throws {
        var random = RandomSource(seed: 19, name: dtype.rawValue)
        let cases: [([Int], [Int])] = [([3, 7], [21]), ([21], [7, 3]), ([1], []), ([], [1, 1]), ([2, 3, 17], [6, 17]), ([100], [4, 25]),
                                       ([5, 1, 33], [33, 5])]
        var ir = IRText()
        var inputs: [String: Tensor] = [:]
        for (index, (from, to)) in cases.enumerated() {
            let x = ir.input("x\(index)", dtype, from)
            inputs["x\(index)"] = dtype == .i64 ? try Values.hugeInt64Tensor(from, &random) : try Values.tensor(dtype, from, .special, &random)
            ir.output(ir.node("reshape", [x], "shape = \(IRText.list(to))", dtype, to))
            let computed = ir.node(dtype == .bool ? "logical_not" : "abs", [x], "", dtype, from)
            let reshaped = ir.node("reshape", [computed], "shape = \(IRText.list(to))", dtype, to)
            ir.output(ir.node(dtype == .bool ? "logical_not" : "neg", [reshaped], "", dtype, to))
        }
        expectJITAgrees(ir, inputs, Agreement(native: true))
    }

    /// Splat and non-splat constants of every dtype, as outputs and as operands (splats fuse at -O2).
    @Test(arguments: [DType.f32, .f64, .i32, .i64, .bool])
    func constant(_ dtype: DType) throws {
        var random = RandomSource(seed: 20, name: dtype.rawValue)
        var ir = IRText()
        var inputs: [String: Tensor] = [:]
        let literals: [Double] = dtype.isFloatingPoint ? [0.1, -2.5, 1e-3, 3.0e7, -0.0, 7.0, 1.0e-40, 0.3333333333333333]
            : dtype == .bool ? [1, 0, 1, 1, 0, 0, 1, 0] : [3.0, -7.0, 0.0, 123456.0, -1.0, 42.0, 2.0, 9.0]
        let op = dtype == .bool ? "logical_and" : "mul"
        for (index, shape) in [[], [1], [7], [3, 17], [2, 1, 5]].enumerated() {
            let count = shape.reduce(1, *)
            let x = ir.input("x\(index)", dtype, shape)
            inputs["x\(index)"] = try Values.tensor(dtype, shape, .general, &random)
            // Splat at the full shape, and rank 0 broadcast.
            let splat = ir.node("constant", [], "dtype = \(dtype.rawValue), shape = \(IRText.list(shape)), values = [\(IRText.float(literals[index]))]", dtype, shape)
            ir.output(splat)
            ir.output(ir.node(op, [x, splat], "", dtype, shape))
            let scalar = ir.node("constant", [], "dtype = \(dtype.rawValue), shape = [], values = [\(IRText.float(literals[index + 1]))]", dtype, [])
            let broadcast = ir.node("broadcast", [scalar], "shape = \(IRText.list(shape))", dtype, shape)
            ir.output(ir.node(op, [broadcast, x], "", dtype, shape))
            // Non-splat.
            let values = (0..<count).map { literals[$0 % literals.count] * (dtype == .bool ? 1 : Double($0 % 3 + 1)) }
            if count > 1 {
                let table = ir.node("constant", [], "dtype = \(dtype.rawValue), shape = \(IRText.list(shape)), values = [\(values.map(IRText.float).joined(separator: ", "))]", dtype, shape)
                ir.output(table)
                ir.output(ir.node(op, [table, x], "", dtype, shape))
            }
        }
        expectJITAgrees(ir, inputs, Agreement(native: true))
    }

    struct MatmulCase: Sendable, CustomTestStringConvertible {
        let batch: [Int], m: Int, k: Int, n: Int
        let dtype: DType
        var testDescription: String { "\(dtype.rawValue) \(batch.map { "\($0)x" }.joined())[\(m)x\(k)] @ [\(k)x\(n)]" }
    }

    static let matmulCases: [MatmulCase] =
        // dlmc's tiled kernel: full and short row blocks, 64-wide panels, a masked last vector.
        [(1, 17, 33), (2, 3, 100), (4, 33, 17), (5, 7, 3), (64, 17, 33), (1, 1, 1), (37, 70, 100), (130, 50, 64), (13, 5, 16)].map {
            MatmulCase(batch: [], m: $0.0, k: $0.1, n: $0.2, dtype: .f32)
        } + [([3], 1, 17, 5), ([2, 3], 5, 7, 33), ([65], 2, 3, 5), ([65], 5, 3, 5)].map {
            MatmulCase(batch: $0.0, m: $0.1, k: $0.2, n: $0.3, dtype: .f32)
        } + [([], 5, 7, 3), ([], 64, 100, 7), ([2, 3], 4, 7, 33)].map {
            MatmulCase(batch: $0.0, m: $0.1, k: $0.2, n: $0.3, dtype: .f64)
        }

    /// `matmul`, 2-D and batched (M = 1, 2, 4, 5, 64; odd K and N), alone, with a bias + relu
    /// epilogue (a GEMM group at -O2), and on computed operands.
    @Test(arguments: matmulCases)
    func matmul(_ c: MatmulCase) throws {
        let aShape = c.batch + [c.m, c.k], bShape = c.batch + [c.k, c.n], cShape = c.batch + [c.m, c.n]
        // (f64 GEMM groups at -O2 are f32's with another type.)
        for level in c.dtype == .f32 ? [0, 2] : [0] {
            var random = RandomSource(seed: 21, name: c.testDescription)
            var ir = IRText()
            let a = ir.input("a", c.dtype, aShape), b = ir.input("b", c.dtype, bShape), bias = ir.input("bias", c.dtype, [c.n])
            let inputs = [
                "a": try Values.tensor(c.dtype, aShape, .general, &random),
                "b": try Values.tensor(c.dtype, bShape, .general, &random),
                "bias": try Values.tensor(c.dtype, [c.n], .general, &random),
            ]
            // A computed operand, and an epilogue (a GEMM group at -O2).
            let negB = ir.node("neg", [b], "", c.dtype, bShape)
            let product = ir.node("matmul", [a, negB], "", c.dtype, cShape)
            let biased = ir.node("add", [product, ir.node("broadcast", [bias], "shape = \(IRText.list(cShape))", c.dtype, cShape)], "", c.dtype, cShape)
            ir.output(ir.node("relu", [biased], "", c.dtype, cShape))
            if level == 0 {
                // Alone, of the inputs (the same at -O2).
                ir.output(ir.node("matmul", [a, b], "", c.dtype, cShape))
            }
            // The JIT sends more than 64 batch matrices of more than 4 rows to the interpreter.
            let native = !(c.batch.reduce(1, *) > 64 && c.m > 4)
            expectJITAgrees(ir, inputs, Agreement(levels: [level], rtol: 1e-5, atol: 1e-5, signedZeros: false, native: native))
        }
    }

    /// Products whose epilogue only adds a matrix start their sums from it (no epilogue pass):
    /// a bias (rows broadcast), a residual of the product's shape on either side of the `add`,
    /// one output column, and a masked last vector.
    @Test(arguments: [(37, 70, 100), (5, 17, 33), (64, 9, 1), (3, 128, 512)])
    func matmulPlusMatrix(_ sizes: (m: Int, k: Int, n: Int)) throws {
        var random = RandomSource(seed: 32, name: "\(sizes)")
        var ir = IRText()
        let (m, k, n) = sizes
        let a = ir.input("a", .f32, [m, k]), b = ir.input("b", .f32, [k, n])
        let bias = ir.input("bias", .f32, [n]), residual = ir.input("residual", .f32, [m, n])
        let inputs = [
            "a": try Values.tensor(.f32, [m, k], .general, &random), "b": try Values.tensor(.f32, [k, n], .general, &random),
            "bias": try Values.tensor(.f32, [n], .general, &random), "residual": try Values.tensor(.f32, [m, n], .general, &random),
        ]
        let negated = ir.node("neg", [b], "", .f32, [k, n])
        ir.output(ir.node("add", [ir.node("matmul", [a, b], "", .f32, [m, n]),
                                  ir.node("broadcast", [bias], "shape = [\(m), \(n)]", .f32, [m, n])], "", .f32, [m, n]))
        ir.output(ir.node("add", [residual, ir.node("matmul", [a, negated], "", .f32, [m, n])], "", .f32, [m, n]))
        // Sums in another order (starting from the addend): float32 rounding.
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-5, atol: 1e-5, signedZeros: false, native: true))
    }

    /// Integer matmuls run through the interpreter callback.
    @Test(arguments: [DType.i32, .i64])
    func integerMatmul(_ dtype: DType) throws {
        var random = RandomSource(seed: 22, name: dtype.rawValue)
        var ir = IRText()
        let a = ir.input("a", dtype, [5, 7]), b = ir.input("b", dtype, [7, 3])
        let inputs = ["a": try Values.tensor(dtype, [5, 7], .general, &random), "b": try Values.tensor(dtype, [7, 3], .general, &random)]
        let product = ir.node("matmul", [a, b], "", dtype, [5, 3])
        ir.output(product)
        ir.output(ir.node("abs", [product], "", dtype, [5, 3]))
        expectJITAgrees(ir, inputs)
    }

    // MARK: Ops that run through the interpreter callbacks

    /// `reduce` (every kind, several axes, keepdims) and `argmax`, each followed by a native op.
    @Test(arguments: [DType.f32, .f64, .i32])
    func reductions(_ dtype: DType) throws {
        var random = RandomSource(seed: 23, name: dtype.rawValue)
        var ir = IRText()
        let shape = [3, 17, 5]
        let x = ir.input("x", dtype, shape)
        var inputs = ["x": try Values.tensor(dtype, shape, .general, &random)]
        let op = dtype == .i32 ? "neg" : "exp"
        // Each kind over two of the axis sets (every set twice overall), with and without keepdims.
        let axisSets = [[0], [1], [2], [0, 2], [0, 1, 2]]
        for (k, kind) in ["sum", "mean", "max", "min", "prod"].enumerated() {
            for (j, axes) in [axisSets[(2 * k) % 5], axisSets[(2 * k + 1) % 5]].enumerated() {
                let keepdims = (k + j) % 2 == 0
                let result = shape.indices.compactMap { axes.contains($0) ? (keepdims ? 1 : nil) : shape[$0] }
                let r = ir.node("reduce", [x], "axes = \(IRText.list(axes)), keepdims = \(keepdims), kind = \"\(kind)\"", dtype, result)
                ir.output(ir.node(op, [r], "", dtype, result))
            }
        }
        // NaN, ±inf and -0 through max, min and sum along rows (and down columns).
        if dtype.isFloatingPoint {
            let specials = ir.input("specials", dtype, [4, 11])
            let pool: [Double] = [.nan, .infinity, -.infinity, -0.0, 0, 1, -1, 3e38, -3e38, 2, -0.0]
            let values: [Double] = (0..<44).map { (i: Int) -> Double in pool[(i * 5 + i / 11) % 11] }
            inputs["specials"] = try Tensor(dtype: dtype, shape: [4, 11], values: values)
            for kind in ["max", "min", "sum"] {
                ir.output(ir.node("reduce", [specials], "axes = [1], keepdims = false, kind = \"\(kind)\"", dtype, [4]))
                ir.output(ir.node("reduce", [specials], "axes = [0], keepdims = true, kind = \"\(kind)\"", dtype, [1, 11]))
            }
        }
        for axis in 0..<3 {
            let result = shape.indices.filter { $0 != axis }.map { shape[$0] }
            let index = ir.node("argmax", [x], "axis = \(axis), keepdims = false", .i64, result)
            ir.output(ir.node("add", [index, index], "", .i64, result))
        }
        // (-O2 only groups last-axis reductions with their neighbours into rows kernels: see `rowGroups`.)
        expectJITAgrees(ir, inputs, Agreement(levels: [0], rtol: 1e-6, atol: 1e-6, signedZeros: false))
    }

    /// `argmax` over NaN, ties and infinities.
    @Test func argmaxSpecialValues() throws {
        var ir = IRText()
        let x = ir.input("x", .f32, [5, 4])
        let values: [Double] = [1, 3, 3, 2, .nan, 1, 2, 3, -.infinity, -.infinity, -.infinity, -.infinity, 0, -0.0, 0, -1, 1, .infinity, .nan, .infinity]
        ir.output(ir.node("argmax", [x], "axis = 1, keepdims = true", .i64, [5, 1]))
        ir.output(ir.node("argmax", [x], "axis = 0, keepdims = false", .i64, [4]))
        expectJITAgrees(ir.text, [["x": try Tensor(dtype: .f32, shape: [5, 4], values: values)]])
    }

    /// `pool2d` (max and average, strides, padding) and `conv2d` (strides, dilations, padding), with epilogues.
    @Test(arguments: [DType.f32, .f64])
    func windows(_ dtype: DType) throws {
        var random = RandomSource(seed: 24, name: dtype.rawValue)
        var ir = IRText()
        let x = ir.input("x", dtype, [2, 9, 7, 3]), w = ir.input("w", dtype, [3, 2, 3, 5]), bias = ir.input("bias", dtype, [5])
        let inputs = [
            "x": try Values.tensor(dtype, [2, 9, 7, 3], .general, &random),
            "w": try Values.tensor(dtype, [3, 2, 3, 5], .general, &random),
            "bias": try Values.tensor(dtype, [5], .general, &random),
        ]
        for kind in ["max", "avg"] {
            ir.output(ir.node("pool2d", [x], "kind = \"\(kind)\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", dtype, [2, 4, 3, 3]))
            let padded = ir.node("pool2d", [x], "kind = \"\(kind)\", padding = [1, 1, 0, 1], strides = [1, 2], window = [3, 3]", dtype, [2, 9, 3, 3])
            ir.output(ir.node("relu", [padded], "", dtype, [2, 9, 3, 3]))
        }
        for (attributes, shape) in [("dilations = [1, 1], padding = [0, 0, 0, 0], strides = [1, 1]", [2, 7, 6, 5]),
                                    ("dilations = [2, 1], padding = [1, 2, 0, 1], strides = [2, 3]", [2, 4, 3, 5])] {
            ir.output(ir.node("conv2d", [x, w], attributes, dtype, shape))
            let conv = ir.node("conv2d", [x, w], attributes, dtype, shape)
            let biased = ir.node("add", [conv, ir.node("broadcast", [bias], "shape = \(IRText.list(shape))", dtype, shape)], "", dtype, shape)
            ir.output(ir.node("tanh", [biased], "", dtype, shape))
        }
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-5, atol: 1e-5, signedZeros: false))
    }

    /// Convolutions too deep for direct loops (kh·kw·C > 64), as implicit GEMMs: receptive fields read
    /// per filter row (dilation 1 along x) or per tap, strides, a 1×1 filter, output pixels not a multiple
    /// of the tile's rows and filters not a multiple of the vector width; alone and with bias + tanh.
    @Test func deepConvolutions() throws {
        var random = RandomSource(seed: 26, name: "deep")
        var ir = IRText()
        let x = ir.input("x", .f32, [2, 11, 9, 16]), w = ir.input("w", .f32, [3, 3, 16, 20])
        let pointwise = ir.input("p", .f32, [1, 1, 16, 70]), bias = ir.input("bias", .f32, [20])
        let inputs = [
            "x": try Values.tensor(.f32, [2, 11, 9, 16], .general, &random),
            "w": try Values.tensor(.f32, [3, 3, 16, 20], .general, &random),
            "p": try Values.tensor(.f32, [1, 1, 16, 70], .general, &random),
            "bias": try Values.tensor(.f32, [20], .general, &random),
        ]
        for (attributes, shape) in [("dilations = [1, 1], padding = [0, 0, 0, 0], strides = [1, 1]", [2, 9, 7, 20]),
                                    ("dilations = [1, 2], padding = [0, 0, 0, 0], strides = [2, 1]", [2, 5, 5, 20]),
                                    ("dilations = [2, 2], padding = [0, 0, 0, 0], strides = [2, 2]", [2, 4, 3, 20])] {
            ir.output(ir.node("conv2d", [x, w], attributes, .f32, shape))
            let conv = ir.node("conv2d", [x, w], attributes, .f32, shape)
            let biased = ir.node("add", [conv, ir.node("broadcast", [bias], "shape = \(IRText.list(shape))", .f32, shape)], "", .f32, shape)
            ir.output(ir.node("tanh", [biased], "", .f32, shape))
        }
        ir.output(ir.node("conv2d", [x, pointwise], "dilations = [1, 1], padding = [0, 0, 0, 0], strides = [1, 1]", .f32, [2, 11, 9, 70]))
        // Sums of 144 products of values near 1 in another order: float32 rounding differs by ~1e-5 absolute
        // where terms cancel (measured: at most 1.3e-5).
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-5, atol: 5e-5, signedZeros: false, native: true))
    }

    /// `concat`, `slice` (with steps), `gather` (i32 and i64 indices, axis 0 and 1) and `one_hot`.
    @Test(arguments: [DType.f32, .i64])
    func dataMovement(_ dtype: DType) throws {
        var random = RandomSource(seed: 25, name: dtype.rawValue)
        var ir = IRText()
        let a = ir.input("a", dtype, [3, 7]), b = ir.input("b", dtype, [3, 1]), table = ir.input("table", dtype, [10, 17])
        let ids32 = ir.input("ids32", .i32, [2, 3]), ids64 = ir.input("ids64", .i64, [5])
        let inputs = [
            "a": dtype == .i64 ? try Values.hugeInt64Tensor([3, 7], &random) : try Values.tensor(dtype, [3, 7], .special, &random),
            "b": try Values.tensor(dtype, [3, 1], .general, &random),
            "table": dtype == .i64 ? try Values.hugeInt64Tensor([10, 17], &random) : try Values.tensor(dtype, [10, 17], .general, &random),
            "ids32": try Tensor(dtype: .i32, shape: [2, 3], values: [0, 9, 3, 3, 1, 0]),
            "ids64": try Tensor(dtype: .i64, shape: [5], values: [16, 0, 7, 7, 2]),
        ]
        let joined = ir.node("concat", [a, b, a], "axis = 1", dtype, [3, 15])
        ir.output(joined)
        ir.output(ir.node("neg", [ir.node("concat", [a, a], "axis = 0", dtype, [6, 7])], "", dtype, [6, 7]))
        ir.output(ir.node("slice", [joined], "ends = [3, 15], starts = [1, 2], steps = [1, 3]", dtype, [2, 5]))
        let sliced = ir.node("slice", [a], "ends = [3, 7], starts = [0, 0], steps = [2, 2]", dtype, [2, 4])
        ir.output(ir.node("abs", [sliced], "", dtype, [2, 4]))
        let rows = ir.node("gather", [table, ids32], "axis = 0", dtype, [2, 3, 17])
        ir.output(ir.node("neg", [rows], "", dtype, [2, 3, 17]))
        ir.output(ir.node("gather", [table, ids64], "axis = 1", dtype, [10, 5]))
        let hot = ir.node("one_hot", [ids32], "depth = 10, dtype = \(dtype.rawValue)", dtype, [2, 3, 10])
        ir.output(ir.node("add", [hot, hot], "", dtype, [2, 3, 10]))
        ir.output(ir.node("one_hot", [ids64], "depth = 9, dtype = bool", .bool, [5, 9]))
        expectJITAgrees(ir, inputs)
    }

    /// `pool2d` over NaN, ±inf and ±0, with and without padding.
    @Test(arguments: [DType.f32, .f64])
    func poolSpecialValues(_ dtype: DType) throws {
        var ir = IRText()
        let shape = [2, 5, 6, 3]
        let x = ir.input("x", dtype, shape)
        let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, 0, -0.0, 1, -1, 3.4e38, 1e-45]
        let values = (0..<shape.reduce(1, *)).map { i in i % 7 == 3 ? -0.0 : specials[(i * 7 + i / 5) % specials.count] }
        for kind in ["max", "avg"] {
            ir.output(ir.node("pool2d", [x], "kind = \"\(kind)\", padding = [0, 0, 0, 0], strides = [1, 1], window = [2, 2]", dtype, [2, 4, 5, 3]))
            ir.output(ir.node("pool2d", [x], "kind = \"\(kind)\", padding = [2, 2, 2, 2], strides = [3, 3], window = [3, 3]", dtype, [2, 3, 3, 3]))
            ir.output(ir.node("pool2d", [x], "kind = \"\(kind)\", padding = [0, 0, 0, 0], strides = [1, 1], window = [1, 1]", dtype, shape))
        }
        // All -0: the average of negative zeros.
        let zeros = ir.input("zeros", dtype, [1, 2, 2, 17])
        ir.output(ir.node("pool2d", [zeros], "kind = \"avg\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", dtype, [1, 1, 1, 17]))
        ir.output(ir.node("pool2d", [zeros], "kind = \"max\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", dtype, [1, 1, 1, 17]))
        let inputs = ["x": try Tensor(dtype: dtype, shape: shape, values: values),
                      "zeros": try Tensor(dtype: dtype, shape: [1, 2, 2, 17], values: Array(repeating: -0.0, count: 68))]
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-6, atol: 0))
    }

    /// Row groups (softmax, log-softmax, layer norm, row means) at odd widths, with inputs scaled so exp overflows
    /// without the max subtraction.
    @Test(arguments: [1, 3, 17, 100])
    func rowGroups(_ width: Int) throws {
        let source = """
        model Rows(x: f32[B, \(width)]) -> (f32[B, \(width)], f32[B, \(width)], f32[B, \(width)], f32[B, 1], f32[B, \(width)]) {
            y = x * 120.0
            return (softmax(y), log_softmax(y), layernorm(x), mean(y, axis: 1, keepdims: true), y - max(y, axis: 1, keepdims: true))
        }
        """
        // Row groups form at -O2 (at -O0 these are plain reductions, covered above).
        try expectJITMatchesInterpreter({ try lowerModels(source, path: "rows.dlm")[0].graph },
                                        bindingSets: width == 17 ? [["B": 1], ["B": 7]] : [["B": 7]], level: 2, seed: UInt64(width),
                                        note: source)
    }

    /// Inputs the interpreter rejects (a gather index out of range, an integer pool) make the JIT fail too.
    @Test func errorsAgree() throws {
        var cases: [(String, [String: Tensor])] = []
        for index: Int64 in [10, -1, .max, .min] {
            var ir = IRText()
            let table = ir.input("table", .f32, [10, 3]), ids = ir.input("ids", .i64, [4])
            ir.output(ir.node("neg", [ir.node("gather", [table, ids], "axis = 0", .f32, [4, 3])], "", .f32, [4, 3]))
            cases.append((ir.text, ["table": try Tensor(zeros: .f32, shape: [10, 3]), "ids": try Values.int64([4], [0, 9, index, 1])]))
        }
        var ir = IRText()
        let x = ir.input("x", .i32, [1, 4, 4, 2])
        ir.output(ir.node("pool2d", [x], "kind = \"max\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", .i32, [1, 2, 2, 2]))
        cases.append((ir.text, ["x": try Tensor(zeros: .i32, shape: [1, 4, 4, 2])]))
        for (text, inputs) in cases {
            for level in [0, 2] {
                let reference = try parseGraph(text), compiled = try parseGraph(text)
                try PassManager(pipeline: .level(level)).run(reference)
                try PassManager(pipeline: .level(level)).run(compiled)
                #expect(throws: (any Error).self, "the interpreter accepts\n\(text)") { try Interpreter(graph: reference, parameters: [:], pool: testPool).run(inputs) }
                let executor = try ModelExecutor(graph: compiled, parameters: [:], backend: .jit, pool: testPool, cache: .off)
                #expect(throws: (any Error).self, "the JIT accepts\n\(text)") { try executor.run(inputs) }
                // And the executor still works afterwards on good inputs.
                if inputs["ids"] != nil {
                    var good = inputs
                    good["ids"] = try Values.int64([4], [0, 9, 2, 1])
                    let expected = try Interpreter(graph: reference, parameters: [:], pool: testPool).run(good)
                    let actual = try executor.run(good)
                    #expect(tensorDifference(actual[0], expected[0], rtol: 0) == nil)
                }
            }
        }
    }

    /// A reverse `scan` written in IR, with gather, one_hot and concat/slice in its body.
    @Test func reverseScan() throws {
        let ir = """
        graph @Seq(%ids: i32[B, T], %emb: f32[20, 4], %w: f32[8, 4]) -> (f32[B, 4], f32[B, T, 4], f32[T, B, 8]) {
          %0 = gather(%emb, %ids) {axis = 0} : f32[B, T, 4]
          %1 = one_hot(%ids) {depth = 8, dtype = f32} : f32[B, T, 8]
          %2 = transpose(%1) {permutation = [1, 0, 2]} : f32[T, B, 8]
          %3 = slice(%0) {ends = [B, 1, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : f32[B, 1, 4]
          %4 = reshape(%3) {shape = [B, 4]} : f32[B, 4]
          %6, %7 = scan(%0, %4, %w) {carries = 1, reverse = true, sequences = 1} : f32[B, 4], f32[B, T, 4] {
            body(%x_t: f32[B, 4], %h: f32[B, 4], %wc: f32[8, 4]) {
              %0 = concat(%x_t, %h) {axis = 1} : f32[B, 8]
              %1 = matmul(%0, %wc) : f32[B, 4]
              %2 = tanh(%1) : f32[B, 4]
              %3 = add(%2, %x_t) : f32[B, 4]
              %4 = slice(%0) {ends = [B, 8], starts = [0, 4], steps = [1, 1]} : f32[B, 4]
              %5 = mul(%4, %3) : f32[B, 4]
              return %2, %5
            }
          }
          return %6, %7, %2
        }
        """
        var random = RandomSource(seed: 26)
        var sets: [[String: Tensor]] = []
        for (batch, steps) in [(1, 1), (3, 7), (2, 5)] {
            sets.append([
                "ids": try Tensor(dtype: .i32, shape: [batch, steps], values: (0..<(batch * steps)).map { _ in Double(random.next() % 20) }),
                "emb": try Values.tensor(.f32, [20, 4], .general, &random),
                "w": try Values.tensor(.f32, [8, 4], .general, &random),
            ])
        }
        expectJITAgrees(ir, sets, Agreement(rtol: 1e-5, atol: 1e-6, signedZeros: false))
    }

    /// Pools computed inside the kernel of the shallow convolution they read (max 2×2 stride 2
    /// over a padded, strided convolution; average 3×3 stride 2 over overlapping windows and an odd
    /// grid), and a convolution with a second reader, which keeps its own output.
    @Test func poolsFusedIntoConvolutions() throws {
        var random = RandomSource(seed: 29)
        var ir = IRText()
        let x = ir.input("x", .f32, [2, 13, 11, 2]), w = ir.input("w", .f32, [3, 3, 2, 5]), bias = ir.input("bias", .f32, [5])
        let inputs = [
            "x": try Values.tensor(.f32, [2, 13, 11, 2], .general, &random),
            "w": try Values.tensor(.f32, [3, 3, 2, 5], .general, &random),
            "bias": try Values.tensor(.f32, [5], .general, &random),
        ]
        func convolution(_ attributes: String, _ shape: [Int]) -> String {
            ir.convolutionWithBiasAndReLU(x, w, bias, attributes, shape)
        }
        let padded = convolution("dilations = [1, 1], padding = [1, 1, 1, 1], strides = [1, 2]", [2, 13, 6, 5])
        ir.output(ir.node("pool2d", [padded], "kind = \"max\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", .f32, [2, 6, 3, 5]))
        let plain = convolution("dilations = [1, 1], padding = [0, 0, 0, 0], strides = [1, 1]", [2, 11, 9, 5])
        ir.output(ir.node("pool2d", [plain], "kind = \"avg\", padding = [0, 0, 0, 0], strides = [2, 2], window = [3, 3]", .f32, [2, 5, 4, 5]))
        // (Dilated, so it is not the same value as `plain`, which CSE would merge.)
        let shared = convolution("dilations = [2, 1], padding = [0, 0, 0, 0], strides = [1, 1]", [2, 9, 9, 5])
        ir.output(ir.node("pool2d", [shared], "kind = \"max\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", .f32, [2, 4, 4, 5]))
        ir.output(shared)
        // (-O0 keeps relu between convolution and pool: nothing fuses there.)
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-5, atol: 1e-6, signedZeros: false, native: true))
    }

    /// Pools computed by a deep convolution's implicit GEMM, window by window: max 2×2 stride 2
    /// over an odd grid (its last row and column never computed), max 1×3 stride 1 (overlapping),
    /// average 2×2 over a strided convolution; filters not a multiple of the vector width; and a
    /// 3×3 average window, too many cells to fuse, which pools separately.
    @Test func poolsFusedIntoDeepConvolutions() throws {
        var random = RandomSource(seed: 31)
        var ir = IRText()
        let x = ir.input("x", .f32, [2, 13, 11, 16]), w = ir.input("w", .f32, [3, 3, 16, 20]), bias = ir.input("bias", .f32, [20])
        let inputs = [
            "x": try Values.tensor(.f32, [2, 13, 11, 16], .general, &random),
            "w": try Values.tensor(.f32, [3, 3, 16, 20], .general, &random),
            "bias": try Values.tensor(.f32, [20], .general, &random),
        ]
        func convolution(_ attributes: String, _ shape: [Int]) -> String {
            ir.convolutionWithBiasAndReLU(x, w, bias, attributes, shape)
        }
        let cases: [(conv: String, shape: [Int], pool: String, pooled: [Int])] = [
            ("dilations = [1, 1], padding = [0, 0, 0, 0], strides = [1, 1]", [2, 11, 9, 20],
             "kind = \"max\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", [2, 5, 4, 20]),
            ("dilations = [1, 2], padding = [0, 0, 0, 0], strides = [1, 1]", [2, 11, 7, 20],
             "kind = \"max\", padding = [0, 0, 0, 0], strides = [1, 1], window = [1, 3]", [2, 11, 5, 20]),
            ("dilations = [1, 1], padding = [0, 0, 0, 0], strides = [2, 2]", [2, 6, 5, 20],
             "kind = \"avg\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]", [2, 3, 2, 20]),
            ("dilations = [2, 1], padding = [0, 0, 0, 0], strides = [1, 1]", [2, 9, 9, 20],
             "kind = \"avg\", padding = [0, 0, 0, 0], strides = [2, 2], window = [3, 3]", [2, 4, 4, 20]),
        ]
        for c in cases {
            ir.output(ir.node("pool2d", [convolution(c.conv, c.shape)], c.pool, .f32, c.pooled))
        }
        // Sums of 144 products of values near 1 in another order (see deepConvolutions).
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-5, atol: 5e-5, signedZeros: false, native: true))
    }

    /// Slices fused into an elementwise group as strided loads (steps and starts on two axes),
    /// two of them reading one input at different indexings, as a recurrent cell's gates do.
    @Test func slicesInsideGroups() throws {
        var random = RandomSource(seed: 28)
        var ir = IRText()
        let x = ir.input("x", .f32, [4, 10, 12]), y = ir.input("y", .f32, [4, 5, 4])
        let first = ir.node("slice", [x], "ends = [4, 10, 12], starts = [0, 1, 0], steps = [1, 2, 3]", .f32, [4, 5, 4])
        // (The second keeps the last axis contiguous: the interpreter copies runs of it.)
        let second = ir.node("slice", [x], "ends = [4, 10, 6], starts = [0, 0, 2], steps = [1, 2, 1]", .f32, [4, 5, 4])
        let gate = ir.node("mul", [ir.node("tanh", [first], "", .f32, [4, 5, 4]), second], "", .f32, [4, 5, 4])
        ir.output(ir.node("add", [gate, y], "", .f32, [4, 5, 4]))
        let inputs = ["x": try Values.tensor(.f32, [4, 10, 12], .general, &random), "y": try Values.tensor(.f32, [4, 5, 4], .general, &random)]
        expectJITAgrees(ir, inputs, Agreement(rtol: 1e-6, atol: 1e-7, signedZeros: false, native: true))
    }

    /// A forward `scan` whose carries take every path of the compiled time loop: one the body
    /// computes (written straight into the buffer the next step reads, two buffers swapping, so
    /// odd and even lengths end in different ones) and read again inside the step, one passed
    /// through unchanged (copied), a step slice read in place from the stacked sequence, and a
    /// stacked per-step output.
    @Test func forwardScanCarries() throws {
        let ir = """
        graph @Rec(%x: f32[B, T, 6], %h0: f32[B, 6], %k0: f32[B, 6], %w: f32[6, 6]) -> (f32[B, 6], f32[B, 6], f32[B, T, 6]) {
          %0, %1, %2 = scan(%x, %h0, %k0, %w) {carries = 2, reverse = false, sequences = 1} : f32[B, 6], f32[B, 6], f32[B, T, 6] {
            body(%x_t: f32[B, 6], %h: f32[B, 6], %k: f32[B, 6], %wc: f32[6, 6]) {
              %0 = matmul(%h, %wc) : f32[B, 6]
              %1 = add(%0, %x_t) : f32[B, 6]
              %2 = tanh(%1) : f32[B, 6]
              %3 = mul(%2, %k) : f32[B, 6]
              return %2, %k, %3
            }
          }
          return %0, %1, %2
        }
        """
        var random = RandomSource(seed: 27)
        var sets: [[String: Tensor]] = []
        for (batch, steps) in [(1, 1), (2, 2), (3, 3), (2, 4), (1, 6)] {
            sets.append([
                "x": try Values.tensor(.f32, [batch, steps, 6], .general, &random),
                "h0": try Values.tensor(.f32, [batch, 6], .general, &random),
                "k0": try Values.tensor(.f32, [batch, 6], .general, &random),
                "w": try Values.tensor(.f32, [6, 6], .general, &random),
            ])
        }
        // Six steps of a tanh recurrence carry FMA-versus-multiply-add rounding forward (measured: 7e-6).
        expectJITAgrees(ir, sets, Agreement(rtol: 1e-4, atol: 1e-5, signedZeros: false, native: true))
    }

    /// Kernels of more than 2^15 elements, which the JIT splits across the executor's threads: elementwise
    /// ops with broadcast operands, a comparison feeding a select, a cast, a broadcast and a transpose.
    @Test func largeKernels() throws {
        var random = RandomSource(seed: 30)
        let shape = [3, 33, 337]
        var ir = IRText()
        let x = ir.input("x", .f32, shape), y = ir.input("y", .f32, shape), column = ir.input("column", .f32, [33, 1])
        let i = ir.input("i", .i32, shape)
        let inputs = [
            "x": try Values.tensor(.f32, shape, .general, &random), "y": try Values.tensor(.f32, shape, .general, &random),
            "column": try Values.tensor(.f32, [33, 1], .general, &random), "i": try Values.tensor(.i32, shape, .general, &random),
        ]
        let columns = ir.node("broadcast", [column], "shape = \(IRText.list(shape))", .f32, shape)
        ir.output(ir.node("exp", [ir.node("mul", [x, columns], "", .f32, shape)], "", .f32, shape))
        let greater = ir.node("gt", [x, y], "", .bool, shape)
        ir.output(ir.node("select", [greater, x, ir.node("neg", [y], "", .f32, shape)], "", .f32, shape))
        ir.output(ir.node("cast", [ir.node("add", [i, i], "", .i32, shape)], "dtype = f64", .f64, shape))
        ir.output(ir.node("broadcast", [column], "shape = [3, 33, 337]", .f32, shape))
        ir.output(ir.node("transpose", [x], "permutation = [2, 0, 1]", .f32, [337, 3, 33]))
        expectJITAgrees(ir, inputs, Agreement(native: true), split: true)
    }

    /// Symbolic sizes: one executor runs several sizes (a plan each) and returns to earlier ones.
    @Test func severalSizesOnOneExecutor() throws {
        let ir = """
        graph @G(%x: f32[B, 17], %w: f32[17, 33], %bias: f32[33], %row: f32[B, 1]) -> (f32[B, 33], f32[33, B], f32[B, 33]) {
          %0 = matmul(%x, %w) : f32[B, 33]
          %1 = broadcast(%bias) {shape = [B, 33]} : f32[B, 33]
          %2 = add(%0, %1) : f32[B, 33]
          %3 = sigmoid(%2) : f32[B, 33]
          %4 = transpose(%3) {permutation = [1, 0]} : f32[33, B]
          %5 = broadcast(%row) {shape = [B, 33]} : f32[B, 33]
          %6 = mul(%3, %5) : f32[B, 33]
          %7 = exp(%6) : f32[B, 33]
          return %3, %4, %7
        }
        """
        var random = RandomSource(seed: 27)
        let w = try Values.tensor(.f32, [17, 33], .general, &random), bias = try Values.tensor(.f32, [33], .general, &random)
        var sets: [[String: Tensor]] = []
        for batch in [1, 3, 100, 1] {
            sets.append(["x": try Values.tensor(.f32, [batch, 17], .general, &random), "w": w, "bias": bias,
                         "row": try Values.tensor(.f32, [batch, 1], .general, &random)])
        }
        expectJITAgrees(ir, sets, Agreement(rtol: 1e-5, atol: 1e-6, signedZeros: false, native: true))
    }

    /// `scan` through small recurrent models in `.dlm`: the built-in lstm, gru and simple_rnn layers and an
    /// LSTM cell written out, at batch 1 and 3 and 1 or 7 steps (at -O2, and the written-out cell at -O0 too).
    @Test(arguments: ["SmallLSTM", "SmallGRU", "SmallRNN", "HandLSTM"])
    func recurrentModel(_ name: String) throws {
        let source = """
        layer Cell(x: f32[B, I], h: f32[B, H], c: f32[B, H]) -> (f32[B, H], f32[B, H]) {
            z = concat([h, x], axis: 1)
            i = sigmoid(dense(z, H, name: "input_gate"))
            f = sigmoid(dense(z, H, name: "forget_gate"))
            o = sigmoid(dense(z, H, name: "output_gate"))
            g = tanh(dense(z, H, name: "cell"))
            c2 = f * c + i * g
            return (o * tanh(c2), c2)
        }

        model SmallLSTM(x: f32[B, T, 3]) -> f32[B, 5] {
            return lstm(x, 5)
        }

        model SmallGRU(x: f32[B, T, 3]) -> f32[B, T, 5] {
            return gru(x, 5, return_sequences: true)
        }

        model SmallRNN(x: f32[B, T, 3]) -> f32[B, T, 4] {
            return simple_rnn(x, 4, return_sequences: true)
        }

        model HandLSTM(x: f32[B, T, 3]) -> f32[B, 5] {
            (h, c) = scan(Cell, x, init: (zeros([B, 5]), zeros([B, 5])))
            return h
        }

        """
        let models = try lowerModels(source, path: "recurrent.dlm")
        let index = try #require(models.firstIndex { $0.name == name })
        for level in name == "HandLSTM" ? [0, 2] : [2] {
            try expectJITMatchesInterpreter({ try lowerModels(source, path: "recurrent.dlm")[index].graph },
                                            bindingSets: [["B": 1, "T": 1], ["B": 3, "T": 7]], level: level, seed: 5, note: "\(name) -O\(level)")
        }
    }
}
