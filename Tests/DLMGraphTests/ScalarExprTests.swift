import Foundation
import Testing
@testable import DLMGraph

@Suite struct ScalarExprTests {
    func eval(_ op: OpCode, _ args: [Double], _ attributes: [String: Attribute] = [:], dtype: DType = .f64) -> Double {
        op.scalarDefinition?.evaluate(args: args, attributes: attributes, dtype: dtype) ?? .nan
    }

    func close(_ a: Double, _ b: Double) -> Bool { Swift.abs(a - b) <= 1e-12 * Swift.max(1, Swift.abs(b)) }

    @Test func unaryOps() {
        #expect(eval(.neg, [2.5]) == -2.5)
        #expect(eval(.abs, [-3]) == 3)
        #expect(close(eval(.exp, [1]), 2.718281828459045))
        #expect(close(eval(.log, [Foundation.exp(2.0)]), 2))
        #expect(eval(.sqrt, [9]) == 3)
        #expect(eval(.rsqrt, [4]) == 0.5)
        #expect(close(eval(.tanh, [0.5]), 0.46211715726000974))
        #expect(eval(.sigmoid, [0]) == 0.5)
        #expect(close(eval(.sigmoid, [2]), 0.8807970779778823))
        #expect(eval(.relu, [-2]) == 0)
        #expect(eval(.relu, [3]) == 3)
        #expect(eval(.leakyRelu, [-2], ["alpha": .float(0.1)]) == -0.2)
        #expect(eval(.leakyRelu, [5], ["alpha": .float(0.1)]) == 5)
        #expect(close(eval(.gelu, [1]), 0.8413447460685429))
        #expect(eval(.gelu, [0]) == 0)
        #expect(close(eval(.erf, [0.5]), 0.5204998778130465))
        #expect(eval(.logicalNot, [0]) == 1)
        #expect(eval(.logicalNot, [1]) == 0)
    }

    @Test func binaryOps() {
        #expect(eval(.add, [2, 3]) == 5)
        #expect(eval(.sub, [2, 3]) == -1)
        #expect(eval(.mul, [2, 3]) == 6)
        #expect(eval(.div, [3, 2]) == 1.5)
        #expect(eval(.div, [-7, 2], dtype: .i32) == -3)
        #expect(eval(.div, [7, 0], dtype: .i64) == 0)
        #expect(eval(.pow, [2, 10]) == 1024)
        #expect(eval(.maximum, [2, 3]) == 3)
        #expect(eval(.minimum, [2, 3]) == 2)
        #expect(eval(.eq, [2, 2]) == 1 && eval(.eq, [2, 3]) == 0)
        #expect(eval(.ne, [2, 2]) == 0 && eval(.ne, [2, 3]) == 1)
        #expect(eval(.lt, [2, 3]) == 1 && eval(.lt, [3, 3]) == 0)
        #expect(eval(.le, [3, 3]) == 1 && eval(.le, [4, 3]) == 0)
        #expect(eval(.gt, [4, 3]) == 1 && eval(.gt, [3, 3]) == 0)
        #expect(eval(.ge, [3, 3]) == 1 && eval(.ge, [2, 3]) == 0)
        #expect(eval(.logicalAnd, [1, 1]) == 1 && eval(.logicalAnd, [1, 0]) == 0)
        #expect(eval(.logicalOr, [0, 1]) == 1 && eval(.logicalOr, [0, 0]) == 0)
    }

    @Test func selectAndCast() {
        #expect(eval(.select, [1, 10, 20]) == 10)
        #expect(eval(.select, [0, 10, 20]) == 20)
        #expect(eval(.cast, [2.7], dtype: .i32) == 2)
        #expect(eval(.cast, [-2.7], dtype: .i64) == -2)
        #expect(eval(.cast, [0.5], dtype: .bool) == 1)
        #expect(eval(.cast, [0.1], dtype: .f32) == Double(Float(0.1)))
    }

    @Test func everyElementwiseOpHasAScalarDefinition() {
        let elementwise = OpCode.allCases.filter(\.isElementwise)
        #expect(elementwise.count == 30)
        #expect(OpCode.matmul.scalarDefinition == nil)
        #expect(OpCode.scan.scalarDefinition == nil)
    }

    @Test func missingInputsAreNaN() {
        #expect(ScalarExpr.arg(3).evaluate(args: [1]).isNaN)
        #expect(ScalarExpr.attribute("alpha").evaluate(args: []).isNaN)
        #expect(ScalarExpr.cast(.constant(3.9), .i32).evaluate(args: []) == 3)
        #expect(ScalarExpr.binary(.max, .constant(1), .constant(.nan)).evaluate(args: []).isNaN)
    }

    @Test func description() {
        #expect(OpCode.relu.scalarDefinition?.description == "(max arg0 0.0)")
    }
}
