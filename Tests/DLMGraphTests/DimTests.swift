import Testing
@testable import DLMGraph

@Suite struct DimTests {
    let b = Dim.symbol("B")
    let t = Dim.symbol("T")

    @Test func canonicalisesProductsAndSums() {
        #expect(b * t == t * b)
        #expect(2 * b - b == b)
        #expect((b + 1) * (b - 1) == b * b - 1)
        #expect((b - b).constantValue == 0)
        #expect(Dim.constant(3) + 4 == 7)
    }
}
