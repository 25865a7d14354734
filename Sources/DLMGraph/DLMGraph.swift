// DLMGraph: the graph IR, its op registry, verifier, printer and parser, and lowering from the AST.
