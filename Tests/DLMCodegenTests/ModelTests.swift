import DLMCodegen
import DLMGraph
import DLMRuntime
import Testing

@Suite struct JITModelTests {
    @Test(arguments: ["mlp.dlm", "mnist_cnn_a.dlm", "xor.dlm", "linear_regression.dlm"])
    func exampleMatchesInterpreter(file: String) throws {
        for (index, _) in try exampleModels(file).enumerated() {
            for batch in [1, 5] {
                try expectJITMatchesInterpreter({ try exampleModels(file)[index].graph }, bindings: ["B": batch, "N": batch, "T": 7])
            }
        }
    }
}
