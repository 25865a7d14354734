import DLMGraph

/// What the compiled model will be used for; some rewrites are only valid
/// for one (dropout is the identity only when running, not training).
public enum CompilationMode: String, Sendable {
    case inference
    case training
}

/// Counts a pass reports; `--stats` prints them.
public struct PassStatistics: Sendable, Hashable {
    /// Nodes the pass removed (net).
    public var opsRemoved = 0
    /// Nodes the pass merged into fused groups.
    public var opsFused = 0
    /// Bytes of intermediates that no longer exist as tensors (values kept
    /// inside fused kernels), as an expression of the symbolic dims.
    public var bytesSaved: Dim = 0

    /// Creates a record of what a pass did.
    public init(opsRemoved: Int = 0, opsFused: Int = 0, bytesSaved: Dim = 0) {
        self.opsRemoved = opsRemoved
        self.opsFused = opsFused
        self.bytesSaved = bytesSaved
    }

    /// Whether the pass changed anything it counts.
    public var isEmpty: Bool { opsRemoved == 0 && opsFused == 0 && bytesSaved == 0 }
}

/// One graph transformation with a name and one job. Passes mutate the graph
/// in place (its node list, via `Graph.replaceNodes`) and report what they did.
public protocol GraphPass: Sendable {
    /// The name used in pipelines and `--print-after` (`dce`, `cse`, `fold`).
    var name: String { get }
    /// One line: what the pass does.
    var summary: String { get }
    /// Transforms `graph`; returns what changed.
    func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics
}
