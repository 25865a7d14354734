import CLLVM
import DLMGraph

/// Reductions over any axes and argmax, accumulating exactly as the
/// interpreter's kernels do: in double precision, each output's elements in
/// row-major order, NaN-propagating max and min, `mean` as the sum times
/// 1/count, and argmax picking the first largest (NaN counts as largest).
extension PlanEmitter {
    func reduceKernel(_ node: Node) throws -> (LLVMValueRef?, LLVMValueRef?) throws -> Void {
        let graph = layout.graph
        guard case .string(let kind)? = node.attributes["kind"], ["sum", "mean", "max", "min", "prod"].contains(kind),
              case .ints(let axes)? = node.attributes["axes"] else { throw Unsupported("reduce attributes") }
        let input = try concreteShape(graph, node.operands[0])
        let reduced = Set(axes)
        let kept = input.indices.filter { !reduced.contains($0) }
        let keptShape = kept.map { input[$0] }, reducedShape = axes.sorted().map { input[$0] }
        let groupSize = reducedShape.reduce(1, *)
        let inputStrides = rowMajorStrides(input)
        let outputStrides = rowMajorStrides(keptShape)
        let inType = graph.type(of: node.operands[0]).dtype, outType = graph.type(of: node.results[0]).dtype
        return { arena, slots in
            let (m, b) = (self.module, self.module.builder)
            let (source, target) = self.operandAndResult(node, arena, slots)
            let accumulator = self.entryAlloca(m.f64, "acc")
            let initial: Double = kind == "max" ? -.infinity : kind == "min" ? .infinity : kind == "prod" ? 1 : 0
            let loops = LoopNest(module: m, function: self.currentFunction)
            self.kernelWork = input.reduce(1, *)
            loops.loops(keptShape, "o", outerRange: self.takeSplit(keptShape.first)) { outer in
                LLVMBuildStore(b, m.real(initial, m.f64), accumulator)
                loops.loops(reducedShape, "r") { inner in
                    var indices = [LLVMValueRef?](repeating: nil, count: input.count)
                    for (axis, index) in zip(kept, outer) { indices[axis] = index }
                    for (axis, index) in zip(axes.sorted(), inner) { indices[axis] = index }
                    let value = self.scalar.convert(self.scalar.load(inType, source, loops.linear(indices, inputStrides)), to: m.f64)
                    let current = LLVMBuildLoad2(b, m.f64, accumulator, "")
                    let next: LLVMValueRef?
                    switch kind {
                    case "max", "min":
                        // a.isNaN || v.isNaN ? nan : Swift.max(a, v) (which is `v >= a ? v : a`; min: `v < a ? v : a`).
                        let takeNew = LLVMBuildFCmp(b, kind == "max" ? LLVMRealOGE : LLVMRealOLT, value, current, "")
                        let chosen = LLVMBuildSelect(b, takeNew, value, current, "")
                        let either = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealUNO, current, current, ""), LLVMBuildFCmp(b, LLVMRealUNO, value, value, ""), "")
                        next = LLVMBuildSelect(b, either, m.real(.nan, m.f64), chosen, "")
                    case "prod": next = LLVMBuildFMul(b, current, value, "")
                    default: next = LLVMBuildFAdd(b, current, value, "")
                    }
                    LLVMBuildStore(b, next, accumulator)
                }
                var result = LLVMBuildLoad2(b, m.f64, accumulator, "")
                if kind == "mean" { result = LLVMBuildFMul(b, result, m.real(1 / Double(groupSize), m.f64), "") }
                self.scalar.store(self.scalar.convert(result, to: self.scalar.representation(outType)), outType, target,
                                  loops.linear(outer, outputStrides))
            }
        }
    }

    func argmaxKernel(_ node: Node) throws -> (LLVMValueRef?, LLVMValueRef?) throws -> Void {
        let graph = layout.graph
        guard case .int(let axis)? = node.attributes["axis"] else { throw Unsupported("argmax without an axis") }
        let input = try concreteShape(graph, node.operands[0])
        let outer = input[..<axis].reduce(1, *), size = input[axis], inner = input[(axis + 1)...].reduce(1, *)
        guard size > 0 else { throw Unsupported("argmax over an empty axis") }
        let inType = graph.type(of: node.operands[0]).dtype, outType = graph.type(of: node.results[0]).dtype
        return { arena, slots in
            let (m, b) = (self.module, self.module.builder)
            let (source, target) = self.operandAndResult(node, arena, slots)
            let best = self.entryAlloca(m.i64, "best"), bestValue = self.entryAlloca(m.f64, "best.value")
            let loops = LoopNest(module: m, function: self.currentFunction)
            self.kernelWork = input.reduce(1, *)
            loops.outerLoop(outer, "o", range: self.takeSplit(outer)) { o in
                loops.loop(inner, "i") { i in
                    LLVMBuildStore(b, m.int64(0), best)
                    LLVMBuildStore(b, m.real(-.infinity, m.f64), bestValue)
                    loops.loop(size, "j") { j in
                        let index = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, o, m.int64(size), ""), j, ""), m.int64(inner), ""), i, "")
                        let v = self.scalar.convert(self.scalar.load(inType, source, index), to: m.f64)
                        let current = LLVMBuildLoad2(b, m.f64, bestValue, "")
                        // Once the best is NaN nothing replaces it; otherwise a larger value, a NaN, or the first element does.
                        let better = LLVMBuildOr(b, LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealOGT, v, current, ""),
                                                                LLVMBuildFCmp(b, LLVMRealUNO, v, v, ""), ""),
                                                 LLVMBuildICmp(b, LLVMIntEQ, j, m.int64(0), ""), "")
                        let update = LLVMBuildAnd(b, better, LLVMBuildFCmp(b, LLVMRealORD, current, current, ""), "")
                        LLVMBuildStore(b, LLVMBuildSelect(b, update, j, LLVMBuildLoad2(b, m.i64, best, ""), ""), best)
                        LLVMBuildStore(b, LLVMBuildSelect(b, update, v, current, ""), bestValue)
                    }
                    let result = LLVMBuildSIToFP(b, LLVMBuildLoad2(b, m.i64, best, ""), m.f64, "")
                    self.scalar.store(self.scalar.convert(result, to: self.scalar.representation(outType)), outType, target,
                                      LLVMBuildAdd(b, LLVMBuildMul(b, o, m.int64(inner), ""), i, ""))
                }
            }
        }
    }

    /// The addresses of a one-operand node's operand and result.
    func operandAndResult(_ node: Node, _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) -> (LLVMValueRef?, LLVMValueRef?) {
        (address(of: location(of: node.operands[0]), arena, slots), address(of: location(of: node.results[0]), arena, slots))
    }
}
