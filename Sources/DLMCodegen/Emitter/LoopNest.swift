import CLLVM

/// Counted loops in LLVM IR: `for i in 0..<count` with the induction
/// variable as an `i64` phi, bottom-tested (the emitter never makes empty loops).
struct LoopNest {
    let module: CodeModule
    let function: LLVMValueRef?

    /// Emits a loop around whatever `body` emits, at the builder's position, and
    /// leaves the builder after the loop. With `unrolled: false`, LLVM keeps it rolled
    /// (it may still vectorise it).
    func loop(_ count: Int, _ name: String, unrolled: Bool = true, _ body: (LLVMValueRef?) throws -> Void) rethrows {
        let b = module.builder
        let entry = LLVMGetInsertBlock(b)
        let header = module.block("\(name).body", in: function)
        let exit = module.block("\(name).exit", in: function)
        LLVMBuildBr(b, header)
        LLVMPositionBuilderAtEnd(b, header)
        let index = LLVMBuildPhi(b, module.i64, name)
        try body(index)
        let next = LLVMBuildNUWAdd(b, index, module.int64(1), "\(name).next")
        let latch = LLVMGetInsertBlock(b)
        let backEdge = LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntULT, next, module.int64(count), ""), header, exit)
        if !unrolled { module.disableUnrolling(backEdge) }
        var values: [LLVMValueRef?] = [module.int64(0), next]
        var blocks: [LLVMBasicBlockRef?] = [entry, latch]
        LLVMAddIncoming(index, &values, &blocks, 2)
        LLVMPositionBuilderAtEnd(b, exit)
    }

    /// Nested loops over `shape` (outermost first); `body` receives one index per dim.
    /// With `outerRange`, the outermost loop runs only `begin..<end`.
    func loops(_ shape: [Int], _ name: String, outerRange: (begin: LLVMValueRef?, end: LLVMValueRef?)? = nil,
               _ body: ([LLVMValueRef?]) throws -> Void) rethrows {
        func nest(_ depth: Int, _ indices: [LLVMValueRef?]) throws {
            if depth == shape.count { return try body(indices) }
            if depth == 0, let outerRange {
                try loop(from: outerRange.begin, to: outerRange.end, "\(name)\(depth)") { try nest(depth + 1, indices + [$0]) }
            } else {
                try loop(shape[depth], "\(name)\(depth)") { try nest(depth + 1, indices + [$0]) }
            }
        }
        try nest(0, [])
    }

    /// `for i in begin..<end` with bounds known only at run time (a thread's share).
    func loop(from begin: LLVMValueRef?, to end: LLVMValueRef?, _ name: String, _ body: (LLVMValueRef?) throws -> Void) rethrows {
        let b = module.builder
        let entry = LLVMGetInsertBlock(b)
        let header = module.block("\(name).body", in: function)
        let exit = module.block("\(name).exit", in: function)
        LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntULT, begin, end, ""), header, exit)
        LLVMPositionBuilderAtEnd(b, header)
        let index = LLVMBuildPhi(b, module.i64, name)
        try body(index)
        let next = LLVMBuildNUWAdd(b, index, module.int64(1), "\(name).next")
        let latch = LLVMGetInsertBlock(b)
        LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntULT, next, end, ""), header, exit)
        var values: [LLVMValueRef?] = [begin, next]
        var blocks: [LLVMBasicBlockRef?] = [entry, latch]
        LLVMAddIncoming(index, &values, &blocks, 2)
        LLVMPositionBuilderAtEnd(b, exit)
    }

    /// The outermost loop of a kernel: over `begin..<end` of `count` when the kernel is split, else all of it.
    func outerLoop(_ count: Int, _ name: String, range: (begin: LLVMValueRef?, end: LLVMValueRef?)?,
                   _ body: (LLVMValueRef?) throws -> Void) rethrows {
        if let range { try loop(from: range.begin, to: range.end, name, body) } else { try loop(count, name, body) }
    }

    /// `offset + Σ indices[k] * strides[k]` as an i64 (terms with stride 0 vanish).
    func linear(_ indices: [LLVMValueRef?], _ strides: [Int], offset: Int = 0) -> LLVMValueRef? {
        var sum: LLVMValueRef? = module.int64(offset)
        for (index, stride) in zip(indices, strides) where stride != 0 {
            let term = stride == 1 ? index : LLVMBuildNUWMul(module.builder, index, module.int64(stride), "")
            sum = LLVMBuildNUWAdd(module.builder, sum, term, "")
        }
        return sum
    }
}
