/// `fused`: a group of ops the optimiser decided to run as one kernel. Its
/// body is an ordinary graph (so the verifier, printer and both backends
/// read it like any other); its operands are the values the group reads
/// from outside, its results what the group produces.
enum FusionOps {
    /// The group kinds the fuser forms (a hint for backends; the body is the truth).
    static let kinds: Set<String> = ["elementwise", "gemm", "conv", "rows"]

    static let fused = OpDefinition(
        name: "fused", summary: "a fusion group: its body runs as one kernel (a loop nest, or a GEMM/convolution with an elementwise epilogue)",
        example: """
        %5 = fused(%x, @dense1.weight, @dense1.bias) {kind = "gemm"} : f32[B, 128] {
          body(%0: f32[B, 784], %1: f32[784, 128], %2: f32[128]) { ... return %6 }
        }
        """,
        arity: .variadic(minimum: 1),
        attributes: [.required("kind", .string)],
        regionCount: 1,
        inferTypes: { types, attributes, regions in
            let kind = try attributes.string("kind")
            guard kinds.contains(kind) else {
                throw TypeRules.fail("'kind' must be one of \(kinds.sorted().joined(separator: ", ")), got \"\(kind)\"")
            }
            guard let body = regions.first else { throw TypeRules.fail("missing body") }
            let inputs = body.inputs.map { body.type(of: $0) }
            guard inputs == types else {
                throw TypeRules.fail("body inputs (\(inputs.map(\.description).joined(separator: ", "))) must match the operands (\(types.map(\.description).joined(separator: ", ")))")
            }
            guard !body.outputs.isEmpty else { throw TypeRules.fail("body must return at least one value") }
            return body.outputs.map { body.type(of: $0) }
        },
        gradient: .none("fusion groups are formed after differentiation"))
}
