import CLLVM

/// A failure inside LLVM (verification, optimisation, JIT linking, symbol
/// lookup), carrying LLVM's own message.
public struct LLVMError: Error, CustomStringConvertible, Sendable {
    /// What failed and LLVM's explanation.
    public let message: String

    /// An error with a message.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }

    /// Consumes an `LLVMErrorRef`: returns normally when it is success, throws its message otherwise.
    static func check(_ error: LLVMErrorRef?, _ context: @autoclosure () -> String) throws {
        guard let error else { return }
        let raw = LLVMGetErrorMessage(error)
        let message = raw.map { String(cString: $0) } ?? "unknown error"
        LLVMDisposeErrorMessage(raw)
        throw LLVMError("\(context()): \(message)")
    }

    /// Takes ownership of a message LLVM allocated (and frees it).
    static func take(_ message: UnsafeMutablePointer<CChar>?) -> String {
        guard let message else { return "" }
        defer { LLVMDisposeMessage(message) }
        return String(cString: message)
    }
}
