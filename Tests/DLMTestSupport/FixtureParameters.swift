import DLMGraph
import DLMRuntime

/// Parameter values by the splitmix-fnv1a-v1 rule that scripts/make_fixtures.py
/// used for the model fixtures: seeded per parameter name, scaled by fan-in,
/// with batch-norm variances and gammas near 1. Shared by the interpreter's and
/// the JIT's fixture tests.
public func fixtureParameters(of graph: Graph) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for parameter in graph.parameters {
        let shape = parameter.type.shape.dims.compactMap(\.constantValue)
        var random = RandomSource(seed: 0, name: parameter.name)
        let fanIn = shape.count > 1 ? shape.dropLast().reduce(1, *) : 1
        let unitRange = parameter.name.hasSuffix(".moving_variance") || parameter.name.hasSuffix(".gamma")
        let values = (0..<shape.reduce(1, *)).map { _ -> Double in
            let u = 2 * random.unit() - 1
            return unitRange ? 1 + 0.25 * u : u * 0.5 / Double(fanIn).squareRoot()
        }
        result[parameter.name] = try Tensor(dtype: parameter.type.dtype, shape: shape, values: values)
    }
    return result
}
