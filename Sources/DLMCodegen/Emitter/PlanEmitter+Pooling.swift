import CLLVM
import DLMGraph

/// Max and average pooling over NHWC windows as loops: for each output
/// pixel, the window's cells are unrolled (windows are small) and the inner
/// loop runs over channels, contiguous in memory, so it vectorises. Cells
/// outside the input (padding) are skipped and not counted, as in Keras and
/// the interpreter; without padding no bounds are checked at all.
extension PlanEmitter {
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
            let b = self.module.builder
            let type = self.scalar.representation(dtype)
            let source = self.address(of: self.location(of: node.operands[0]), arena, slots)
            let target = self.address(of: self.location(of: node.results[0]), arena, slots)
            let loops = LoopNest(module: self.module, function: self.currentFunction)
            let count = self.entryAlloca(self.module.i64, "cells")
            loops.loop(output[0] * output[1], "row") { row in
                let n = LLVMBuildUDiv(b, row, self.module.int64(output[1]), "")
                let y = LLVMBuildURem(b, row, self.module.int64(output[1]), "")
                loops.loop(output[2], "x") { x in
                    let pixel = LLVMBuildNUWMul(b, LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, row, self.module.int64(output[2]), ""), x, ""),
                                                self.module.int64(channels), "")
                    loops.loop(channels, "c") { c in
                        let out = LLVMBuildNUWAdd(b, pixel, c, "")
                        self.scalar.store(self.module.real(isMax ? -.infinity : 0, type), dtype, target, out)
                    }
                    LLVMBuildStore(b, self.module.int64(0), count)
                    for ky in 0..<window[0] {
                        for kx in 0..<window[1] {
                            // iy = y*sh + ky - top, ix = x*sw + kx - left (signed: padding can make them negative)
                            let iy = LLVMBuildAdd(b, LLVMBuildMul(b, y, self.module.int64(strides[0]), ""), self.module.int64(ky - top), "")
                            let ix = LLVMBuildAdd(b, LLVMBuildMul(b, x, self.module.int64(strides[1]), ""), self.module.int64(kx - left), "")
                            let next = self.module.block("cell.next", in: self.currentFunction)
                            if padded {
                                let inside = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntULT, iy, self.module.int64(height), ""),
                                                          LLVMBuildICmp(b, LLVMIntULT, ix, self.module.int64(width), ""), "")
                                let cell = self.module.block("cell", in: self.currentFunction)
                                LLVMBuildCondBr(b, inside, cell, next)
                                LLVMPositionBuilderAtEnd(b, cell)
                            }
                            LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, self.module.i64, count, ""), self.module.int64(1), ""), count)
                            let inputPixel = LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, n, self.module.int64(height), ""), iy, ""),
                                                                                          self.module.int64(width), ""), ix, ""),
                                                          self.module.int64(channels), "")
                            loops.loop(channels, "c") { c in
                                let out = LLVMBuildNUWAdd(b, pixel, c, "")
                                let current = self.scalar.load(dtype, target, out)
                                let value = self.scalar.load(dtype, source, LLVMBuildAdd(b, inputPixel, c, ""))
                                let combined = isMax ? self.scalar.maximum(current, value) : LLVMBuildFAdd(b, current, value, "")
                                self.scalar.store(combined, dtype, target, out)
                            }
                            LLVMBuildBr(b, next)
                            LLVMPositionBuilderAtEnd(b, next)
                        }
                    }
                    if !isMax {
                        // The mean over the cells that were inside the input (nothing to scale for 0 or 1 cell).
                        let cells = LLVMBuildLoad2(b, self.module.i64, count, "")
                        let scale = LLVMBuildFDiv(b, self.module.real(1, type), LLVMBuildUIToFP(b, cells, type, ""), "")
                        let many = LLVMBuildICmp(b, LLVMIntUGT, cells, self.module.int64(1), "")
                        loops.loop(channels, "c") { c in
                            let out = LLVMBuildNUWAdd(b, pixel, c, "")
                            let sum = self.scalar.load(dtype, target, out)
                            self.scalar.store(LLVMBuildSelect(b, many, LLVMBuildFMul(b, sum, scale, ""), sum, ""), dtype, target, out)
                        }
                    }
                }
            }
        }
    }
}
