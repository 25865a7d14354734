import CLLVM
import DLMGraph

/// Max and average pooling over NHWC windows as loops: for each output
/// pixel, the loop over channels (contiguous, so it vectorises) keeps the
/// running max or sum in a register while the window's cells, unrolled
/// (windows are small), are combined into it. Cells outside the input
/// (padding) contribute nothing and are not counted, as in Keras and the
/// interpreter; without padding no bounds are checked at all.
extension PlanEmitter {
    /// Window cell `offset` (kernel position × dilation − padding) of output pixel (n, y, x) in an
    /// NHWC input: the index of its first channel, and whether it lies inside the input (`nil`
    /// without padding). A cell outside gets the index of pixel (n, 0, 0), so reading it is safe.
    func windowCell(n: LLVMValueRef?, y: LLVMValueRef?, x: LLVMValueRef?, offset: (Int, Int), strides: [Int],
                    input: (height: Int, width: Int, channels: Int), padded: Bool) -> (base: LLVMValueRef?, inside: LLVMValueRef?) {
        let m = module
        var iy = LLVMBuildAdd(b, LLVMBuildMul(b, y, m.int64(strides[0]), ""), m.int64(offset.0), "")
        var ix = LLVMBuildAdd(b, LLVMBuildMul(b, x, m.int64(strides[1]), ""), m.int64(offset.1), "")
        var inside: LLVMValueRef?
        if padded {
            inside = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntULT, iy, m.int64(input.height), ""),
                                  LLVMBuildICmp(b, LLVMIntULT, ix, m.int64(input.width), ""), "")
            iy = LLVMBuildSelect(b, inside, iy, m.int64(0), "")
            ix = LLVMBuildSelect(b, inside, ix, m.int64(0), "")
        }
        let pixel = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, n, m.int64(input.height), ""), iy, ""), m.int64(input.width), ""), ix, "")
        return (LLVMBuildMul(b, pixel, m.int64(input.channels), ""), inside)
    }

    func poolKernel(_ node: Node) throws -> (LLVMValueRef?, LLVMValueRef?) throws -> Void {
        let graph = layout.graph
        guard case .string(let kind)? = node.attributes["kind"], kind == "max" || kind == "avg",
              case .ints(let window)? = node.attributes["window"], window.count == 2,
              case .ints(let strides)? = node.attributes["strides"], strides.count == 2,
              case .ints(let padding)? = node.attributes["padding"], padding.count == 4 else { throw Unsupported("pool2d attributes") }
        let dtype = graph.type(of: node.operands[0]).dtype
        guard dtype == .f32 || dtype == .f64 else { throw Unsupported("pool2d of \(dtype.rawValue)") }
        let input = try concreteShape(graph, node.operands[0]), output = try concreteShape(graph, node.results[0])
        let (height, width, channels) = (input[1], input[2], input[3])
        let (top, left) = (padding[0], padding[2])
        let padded = padding.contains { $0 != 0 }
        let isMax = kind == "max"
        return { arena, slots in
            let m = self.module
            let b = m.builder
            let type = self.scalar.representation(dtype)
            // -0 is the additive identity that keeps a sum of negative zeros negative, as the interpreter's copy of the first cell does.
            let identity = m.real(isMax ? -.infinity : -0.0, type)
            let (source, target) = self.operandAndResult(node, arena, slots)
            let loops = LoopNest(module: m, function: self.currentFunction)
            let range = self.takeSplit(output[0] * output[1])
            self.kernelWork = output.reduce(1, *) * window[0] * window[1]
            loops.outerLoop(output[0] * output[1], "row", range: range) { row in
                let n = LLVMBuildUDiv(b, row, m.int64(output[1]), "")
                let y = LLVMBuildURem(b, row, m.int64(output[1]), "")
                loops.loop(output[2], "x") { x in
                    // Each cell: its first input element (signed: padding can put it outside) and whether it is inside.
                    var cells: [(base: LLVMValueRef?, inside: LLVMValueRef?)] = []
                    var count = m.int64(0)
                    for ky in 0..<window[0] {
                        for kx in 0..<window[1] {
                            let cell = self.windowCell(n: n, y: y, x: x, offset: (ky - top, kx - left), strides: strides,
                                                       input: (height, width, channels), padded: padded)
                            // Cells outside read a safe address; their value is replaced by the identity.
                            count = LLVMBuildAdd(b, count, cell.inside.map { LLVMBuildZExt(b, $0, m.i64, "") } ?? m.int64(1), "")
                            cells.append(cell)
                        }
                    }
                    // The mean over the cells inside the input (nothing to scale for 0 or 1 cell).
                    let many = LLVMBuildICmp(b, LLVMIntUGT, count, m.int64(1), "")
                    let scale = LLVMBuildSelect(b, many, LLVMBuildFDiv(b, m.real(1, type), LLVMBuildUIToFP(b, count, type, ""), ""), m.real(1, type), "")
                    let out = LLVMBuildNUWMul(b, LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, row, m.int64(output[2]), ""), x, ""), m.int64(channels), "")
                    loops.loop(channels, "c") { c in
                        var accumulator = identity
                        for cell in cells {
                            var value = self.scalar.load(dtype, source, LLVMBuildAdd(b, cell.base, c, ""))
                            if let inside = cell.inside { value = LLVMBuildSelect(b, inside, value, identity, "") }
                            accumulator = isMax ? self.scalar.maximum(accumulator, value) : LLVMBuildFAdd(b, accumulator, value, "")
                        }
                        if !isMax { accumulator = LLVMBuildFMul(b, accumulator, scale, "") }
                        self.scalar.store(accumulator, dtype, target, LLVMBuildNUWAdd(b, out, c, ""))
                    }
                }
            }
        }
    }
}
