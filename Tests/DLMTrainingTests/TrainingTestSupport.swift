import DLMGraph
import DLMRuntime
import DLMSyntax
import Foundation
import Testing
@_exported import DLMTestSupport

/// The pool tests run on: the machine's cores (two here), so kernels take their split paths.
let testPool = ThreadPool.default
