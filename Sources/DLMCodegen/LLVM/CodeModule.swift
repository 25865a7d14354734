import CLLVM

/// An LLVM module under construction, with its context and instruction
/// builder, owned by Swift and disposed of in `deinit`. The JIT never takes
/// the module itself: it links the object file `objectFile` makes (which the
/// compile cache can also keep).
final class CodeModule {
    let context: LLVMContextRef
    let module: LLVMModuleRef
    let builder: LLVMBuilderRef
    /// Float32 lanes of the host's widest vectors (16 with AVX-512, 8 with AVX, else 4).
    let vectorLanes: Int

    init(name: String, target: HostTarget, machine: LLVMTargetMachineRef) {
        let features = Set(target.features.split(separator: ","))
        vectorLanes = features.contains("+avx512f") ? 16 : features.contains("+avx") ? 8 : 4
        context = LLVMContextCreate()
        module = LLVMModuleCreateWithNameInContext(name, context)
        builder = LLVMCreateBuilderInContext(context)
        LLVMSetTarget(module, target.triple)
        let layout = LLVMCreateTargetDataLayout(machine)
        LLVMSetModuleDataLayout(module, layout)
        LLVMDisposeTargetData(layout)
    }

    deinit {
        LLVMDisposeBuilder(builder)
        LLVMDisposeModule(module)
        LLVMContextDispose(context)
    }

    // MARK: Types

    var void: LLVMTypeRef { LLVMVoidTypeInContext(context) }
    var i1: LLVMTypeRef { LLVMInt1TypeInContext(context) }
    var i8: LLVMTypeRef { LLVMInt8TypeInContext(context) }
    var i32: LLVMTypeRef { LLVMInt32TypeInContext(context) }
    var i64: LLVMTypeRef { LLVMInt64TypeInContext(context) }
    var f32: LLVMTypeRef { LLVMFloatTypeInContext(context) }
    var f64: LLVMTypeRef { LLVMDoubleTypeInContext(context) }
    /// A pointer to `element` (typed in LLVM 14, the same opaque `ptr` from LLVM 15 on).
    func pointer(to element: LLVMTypeRef) -> LLVMTypeRef { LLVMPointerType(element, 0) }
    var bytePointer: LLVMTypeRef { pointer(to: i8) }

    func functionType(_ result: LLVMTypeRef, _ parameters: [LLVMTypeRef?]) -> LLVMTypeRef {
        var parameters = parameters
        return parameters.withUnsafeMutableBufferPointer { LLVMFunctionType(result, $0.baseAddress, UInt32($0.count), 0) }
    }

    // MARK: Constants

    func int64(_ value: Int) -> LLVMValueRef? { LLVMConstInt(i64, UInt64(bitPattern: Int64(value)), 1) }
    func int32(_ value: Int32) -> LLVMValueRef? { LLVMConstInt(i32, UInt64(bitPattern: Int64(value)), 1) }
    func real(_ value: Double, _ type: LLVMTypeRef) -> LLVMValueRef? { LLVMConstReal(type, value) }

    // MARK: Functions

    /// A function declared (and, for intrinsics and C symbols, resolved) by name; reused if present.
    func function(_ name: String, _ type: LLVMTypeRef) -> LLVMValueRef? {
        if let existing = LLVMGetNamedFunction(module, name) { return existing }
        return LLVMAddFunction(module, name, type)
    }

    /// Calls a function of a known type.
    @discardableResult
    func call(_ function: LLVMValueRef?, _ type: LLVMTypeRef, _ arguments: [LLVMValueRef?], _ name: String = "") -> LLVMValueRef? {
        var arguments = arguments
        return arguments.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder, type, function, $0.baseAddress, UInt32($0.count), name)
        }
    }

    /// A new block at the end of `function`.
    func block(_ name: String, in function: LLVMValueRef?) -> LLVMBasicBlockRef {
        LLVMAppendBasicBlockInContext(context, function, name)
    }

    // MARK: Memory

    /// The address of element `index` of an `element` array starting at `base` (any pointer type).
    func element(_ element: LLVMTypeRef, _ base: LLVMValueRef?, _ index: LLVMValueRef?) -> LLVMValueRef? {
        let typed = LLVMBuildBitCast(builder, base, pointer(to: element), "")
        var indices: [LLVMValueRef?] = [index]
        return indices.withUnsafeMutableBufferPointer { LLVMBuildInBoundsGEP2(builder, element, typed, $0.baseAddress, 1, "") }
    }

    func load(_ type: LLVMTypeRef, _ base: LLVMValueRef?, _ index: LLVMValueRef?) -> LLVMValueRef? {
        LLVMBuildLoad2(builder, type, element(type, base, index), "")
    }

    func store(_ value: LLVMValueRef?, _ type: LLVMTypeRef, _ base: LLVMValueRef?, _ index: LLVMValueRef?) {
        LLVMBuildStore(builder, value, element(type, base, index))
    }

    // MARK: Finishing

    /// Checks the module; throws LLVM's explanation if it is malformed (a bug in the emitter).
    /// Hints to bring the cache lines of `count` elements of `type` from element `index` of
    /// `base` into the data cache (`llvm.prefetch`, one per 64-byte line); on addresses
    /// outside memory a hint does nothing.
    func prefetch(_ type: LLVMTypeRef, _ base: LLVMValueRef?, from index: LLVMValueRef?, count: Int, forWriting: Bool, locality: Int32) {
        let signature = functionType(void, [bytePointer, i32, i32, i32])
        let intrinsic = function("llvm.prefetch.p0i8", signature)
        let bytes = Int(LLVMABISizeOfType(LLVMGetModuleDataLayout(module), type))
        for element in stride(from: 0, to: count, by: max(1, 64 / bytes)) {
            let address = LLVMBuildBitCast(builder, self.element(type, base, LLVMBuildAdd(builder, index, int64(element), "")), bytePointer, "")
            call(intrinsic, signature, [address, int32(forWriting ? 1 : 0), int32(locality), int32(1)])
        }
    }

    /// Marks the loop whose back edge is `branch` as not to be unrolled
    /// (`!llvm.loop !{self, !{"llvm.loop.unroll.disable"}}`).
    func disableUnrolling(_ branch: LLVMValueRef?) {
        let option = "llvm.loop.unroll.disable"
        var hint: [LLVMMetadataRef?] = [LLVMMDStringInContext2(context, option, option.utf8.count)]
        let placeholder = LLVMTemporaryMDNode(context, nil, 0)
        var operands: [LLVMMetadataRef?] = [placeholder, LLVMMDNodeInContext2(context, &hint, 1)]
        let loopID = LLVMMDNodeInContext2(context, &operands, 2)
        // The loop ID's first operand is itself.
        LLVMMetadataReplaceAllUsesWith(placeholder, loopID)
        let kind = "llvm.loop"
        LLVMSetMetadata(branch, LLVMGetMDKindIDInContext(context, kind, UInt32(kind.utf8.count)), LLVMMetadataAsValue(context, loopID))
    }

    func verify() throws {
        var message: UnsafeMutablePointer<CChar>?
        if LLVMVerifyModule(module, LLVMReturnStatusAction, &message) != 0 {
            throw LLVMError("generated LLVM IR is invalid: \(LLVMError.take(message))")
        } else {
            _ = LLVMError.take(message)
        }
    }

    /// Runs LLVM's new pass manager pipeline (`default<O2>`, `default<O3>`) for the machine.
    func optimize(_ pipeline: String, machine: LLVMTargetMachineRef) throws {
        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        LLVMPassBuilderOptionsSetLoopVectorization(options, 1)
        LLVMPassBuilderOptionsSetSLPVectorization(options, 1)
        LLVMPassBuilderOptionsSetLoopUnrolling(options, 1)
        try LLVMError.check(LLVMRunPasses(module, pipeline, machine, options), "LLVM passes '\(pipeline)' failed")
    }

    /// The module as LLVM IR text.
    var text: String { LLVMError.take(LLVMPrintModuleToString(module)) }

    /// The module compiled to assembly for `machine`.
    func assembly(machine: LLVMTargetMachineRef) throws -> String {
        String(decoding: try emit(LLVMAssemblyFile, "assembly", machine: machine), as: UTF8.self)
    }

    /// The module compiled to a relocatable object file for `machine` (what the JIT links and the cache keeps).
    func objectFile(machine: LLVMTargetMachineRef) throws -> [UInt8] {
        try emit(LLVMObjectFile, "an object file", machine: machine)
    }

    private func emit(_ kind: LLVMCodeGenFileType, _ what: String, machine: LLVMTargetMachineRef) throws -> [UInt8] {
        var buffer: LLVMMemoryBufferRef?
        var message: UnsafeMutablePointer<CChar>?
        guard LLVMTargetMachineEmitToMemoryBuffer(machine, module, kind, &message, &buffer) == 0, let buffer else {
            throw LLVMError("LLVM could not emit \(what): \(LLVMError.take(message))")
        }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        guard let start = LLVMGetBufferStart(buffer) else { return [] }
        return Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(start), count: LLVMGetBufferSize(buffer)))
    }
}
