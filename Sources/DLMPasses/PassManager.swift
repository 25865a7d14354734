import DLMGraph
import Dispatch

/// A named list of passes: `-O0` (none), `-O1` (cleanups), `-O2`
/// (cleanups, folding, simplification to a fixed point), or a custom list.
public struct Pipeline: Sendable {
    /// The passes, in order.
    public let passes: [any GraphPass]

    /// Creates a pipeline from passes.
    public init(_ passes: [any GraphPass]) {
        self.passes = passes
    }

    /// Every pass the pipeline language knows, by name.
    public static let registry: [String: any GraphPass] = {
        let all: [any GraphPass] = [
            DeadCodeElimination(), CommonSubexpressionElimination(), ConstantFolding(),
            AlgebraicSimplification(), InferenceCleanup(), BatchNormFolding(), SinkReshape(), ScanInvariantMotion(), RowFusion(), Fusion(),
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    }()

    /// The pipeline for an optimisation level (0, 1 or 2).
    public static func level(_ level: Int) -> Pipeline {
        switch level {
        case ..<1: Pipeline([])
        case 1: Pipeline([InferenceCleanup(), DeadCodeElimination()])
        // Simplify and fold expose common subexpressions; CSE and DCE then clean up.
        default: Pipeline([InferenceCleanup(), BatchNormFolding(), AlgebraicSimplification(), ConstantFolding(), AlgebraicSimplification(),
                           CommonSubexpressionElimination(), SinkReshape(), AlgebraicSimplification(), ScanInvariantMotion(), DeadCodeElimination(),
                           RowFusion(), Fusion()])
        }
    }

    /// Parses `--passes a,b,c`; unknown names are an error listing the known ones.
    public static func parse(_ list: String) throws -> Pipeline {
        var passes: [any GraphPass] = []
        for raw in list.split(separator: ",") {
            let name = raw.trimmingCharacters()
            guard let pass = registry[name] else {
                throw PassError("unknown pass '\(name)' (passes: \(registry.keys.sorted().joined(separator: ", ")))")
            }
            passes.append(pass)
        }
        return Pipeline(passes)
    }

    /// `simplify,fold,cse,dce`.
    public var description: String { passes.map(\.name).joined(separator: ",") }
}

/// A pipeline or verification failure.
public struct PassError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs a pipeline over a graph, verifying after every pass when asked
/// (tests and debug builds do), and reporting per-pass statistics and time.
public struct PassManager {
    /// One pass's record in a run.
    public struct Record: Sendable {
        public let pass: String
        public let statistics: PassStatistics
        public let nodesAfter: Int
        public let seconds: Double
    }

    public var pipeline: Pipeline
    public var mode: CompilationMode
    /// Runs the verifier after each pass and fails with the pass's name if it breaks the graph.
    public var verifiesEachPass: Bool
    /// Called after each pass with its name, for `--print-after`.
    public var afterPass: ((String, Graph) -> Void)?

    /// Creates a pass manager. Verification defaults to on in debug builds.
    public init(pipeline: Pipeline, mode: CompilationMode = .inference, verifiesEachPass: Bool? = nil) {
        self.pipeline = pipeline
        self.mode = mode
        var debug = false
        assert({ debug = true; return true }())
        self.verifiesEachPass = verifiesEachPass ?? debug
    }

    /// Runs every pass in order; returns what each did.
    @discardableResult
    public func run(_ graph: Graph) throws -> [Record] {
        var records: [Record] = []
        for pass in pipeline.passes {
            let start = DispatchTime.now().uptimeNanoseconds
            let statistics = try pass.run(on: graph, mode: mode)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if verifiesEachPass {
                let errors = verify(graph)
                if !errors.isEmpty {
                    throw PassError("pass '\(pass.name)' produced an invalid graph:\n" + errors.map { "  \($0)" }.joined(separator: "\n"))
                }
            }
            records.append(Record(pass: pass.name, statistics: statistics, nodesAfter: graph.nodes.count, seconds: seconds))
            afterPass?(pass.name, graph)
        }
        return records
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
