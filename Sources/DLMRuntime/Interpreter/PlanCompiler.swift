import DLMGraph

/// Where a plan put a graph's values for one set of sizes: what a compiler
/// needs to turn the plan into code. Node results live in one arena at
/// `resultOffsets[node][result]`; inputs and then parameters are read from
/// a table of addresses (`GraphRunner.slotAddresses`), in graph order.
package struct PlanLayout {
    /// The graph (already optimised).
    package let graph: Graph
    /// The size of every symbolic dim.
    package let bindings: [String: Int]
    /// Byte offset in the arena of each node's results.
    package let resultOffsets: [[Int]]
    /// Bytes of arena the plan uses.
    package let arenaBytes: Int
    /// Nodes computed once from parameters before the plan first runs; compiled code skips them.
    package let invariantNodes: Set<Int>
}

/// A backend that compiles plans (the LLVM JIT). The runner offers it each
/// new plan; returning `nil` leaves that plan to the interpreter.
package protocol PlanCompiler: AnyObject {
    func compile(_ layout: PlanLayout) -> (any CompiledPlan)?
}

/// Native code for one plan.
package protocol CompiledPlan: AnyObject {
    /// Runs every non-invariant node of the runner's current plan.
    func run(_ runner: GraphRunner, bindings: [String: Int], pool: ThreadPool) throws
}
