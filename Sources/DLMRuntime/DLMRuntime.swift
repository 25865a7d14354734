// DLMRuntime: tensors, data and weight formats, the BLAS interpreter.
