import CLLVM

/// An ORC LLJIT instance for the host CPU. Object files added to it are
/// linked on lookup; the machine code lives as long as the session. Symbols of the
/// process (OpenBLAS's `cblas_sgemm`, libm) resolve automatically.
final class JITSession {
    private let jit: LLVMOrcLLJITRef

    init(target: HostTarget) throws {
        let builder = LLVMOrcCreateLLJITBuilder()
        // Compile for the host CPU and its features (the default builder would too, but say so).
        let machine = try target.makeTargetMachine()
        LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(machine))
        var jit: LLVMOrcLLJITRef?
        try LLVMError.check(LLVMOrcCreateLLJIT(&jit, builder), "LLVM could not create a JIT")
        guard let jit else { throw LLVMError("LLVM returned no JIT") }
        self.jit = jit
        var generator: LLVMOrcDefinitionGeneratorRef?
        do {
            try LLVMError.check(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&generator, LLVMOrcLLJITGetGlobalPrefix(jit), nil, nil),
                                "LLVM could not search the process for symbols")
        } catch {
            LLVMOrcDisposeLLJIT(jit)
            throw error
        }
        LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(jit), generator)
    }

    /// Makes `name` resolve to `address` in code linked later (dlmc's own runtime functions).
    func define(_ name: String, address: UInt64) throws {
        var pair = LLVMJITCSymbolMapPair(
            Name: LLVMOrcLLJITMangleAndIntern(jit, name),
            Sym: LLVMJITEvaluatedSymbol(Address: address, Flags: LLVMJITSymbolFlags(
                GenericFlags: UInt8(LLVMJITSymbolGenericFlagsExported.rawValue | LLVMJITSymbolGenericFlagsCallable.rawValue), TargetFlags: 0)))
        let unit = LLVMOrcAbsoluteSymbols(&pair, 1)
        try LLVMError.check(LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(jit), unit), "LLVM could not define '\(name)'")
    }

    deinit {
        if let error = LLVMOrcDisposeLLJIT(jit) { LLVMConsumeError(error) }
    }

    /// Links a relocatable object file (machine code compiled before, or read from the cache).
    func addObject(_ bytes: [UInt8], name: String) throws {
        let buffer = bytes.withUnsafeBufferPointer { pointer in
            pointer.baseAddress.map { LLVMCreateMemoryBufferWithMemoryRangeCopy(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self), pointer.count, name) }
        }
        guard let buffer = buffer ?? nil else { throw LLVMError("empty object file for '\(name)'") }
        // The JIT takes the buffer even when adding fails.
        try LLVMError.check(LLVMOrcLLJITAddObjectFile(jit, LLVMOrcLLJITGetMainJITDylib(jit), buffer), "LLVM could not link '\(name)'")
    }

    /// The address of a compiled function (compiling its module now if needed).
    func address(of symbol: String) throws -> UnsafeRawPointer {
        var address: LLVMOrcExecutorAddress = 0
        try LLVMError.check(LLVMOrcLLJITLookup(jit, &address, symbol), "JIT lookup of '\(symbol)' failed")
        guard let pointer = UnsafeRawPointer(bitPattern: UInt(address)) else { throw LLVMError("JIT returned a null address for '\(symbol)'") }
        return pointer
    }
}
