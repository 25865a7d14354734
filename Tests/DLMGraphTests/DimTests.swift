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
        #expect(b * (t + 2) == b * t + 2 * b)
    }

    @Test func constantsAndSymbols() {
        #expect(Dim.constant(28).constantValue == 28)
        #expect(b.constantValue == nil)
        #expect((b * t + 1).symbols == ["B", "T"])
        #expect((t.floorDivided(by: 2) * b).symbols == ["B", "T"])
        #expect(Dim.constant(5).symbols.isEmpty)
    }

    @Test func descriptions() {
        #expect(b.description == "B")
        #expect(Dim.constant(28).description == "28")
        #expect((t * b).description == "B*T")
        #expect((2 * b + 1).description == "2*B + 1")
        #expect((1 - b).description == "-B + 1")
        #expect(Dim.constant(0).description == "0")
        #expect(Dim.constant(-3).description == "-3")
        #expect(((t - 3).floorDivided(by: 2) + 1).description == "(T + 1)/2 - 1")
        #expect(t.floorDivided(by: 2).description == "T/2")
        #expect((2 * t.floorDivided(by: 3)).description == "2*(T/3)")
        #expect((b * t.floorDivided(by: 3)).description == "B*(T/3)")
    }

    @Test func floorDivision() {
        #expect(Dim.constant(7).floorDivided(by: 2) == 3)
        #expect(Dim.constant(-7).floorDivided(by: 2) == -4)
        #expect((4 * b).floorDivided(by: 2) == 2 * b)
        #expect((4 * b + 1).floorDivided(by: 2) == 2 * b)
        #expect((2 * b).floorDivided(by: 4) == b.floorDivided(by: 2))
        #expect(b.floorDivided(by: 2).floorDivided(by: 3) == b.floorDivided(by: 6))
        #expect(b.floorDivided(by: 1) == b)
        #expect((t - 3).floorDivided(by: 2) + 1 == (t + 1).floorDivided(by: 2) - 1)
        #expect(b.floorDivided(by: 2) != b.floorDivided(by: 3))
    }

    @Test func evaluation() throws {
        #expect(try (2 * b + 1).evaluate(["B": 5]) == 11)
        #expect(try (b * t).evaluate(["B": 3, "T": 7]) == 21)
        let conv = (t - 3).floorDivided(by: 2) + 1
        for size in 3...20 {
            #expect(try conv.evaluate(["T": size]) == (size - 3) / 2 + 1)
        }
        #expect(try Dim.constant(9).evaluate([:]) == 9)
        #expect(throws: DimError.unboundSymbol("T")) { try (b * t).evaluate(["B": 2]) }
        #expect(throws: DimError.self) { try (b * b * b).evaluate(["B": Int.max / 2]) }
    }

    @Test func substitution() throws {
        let dim = b * t + t.floorDivided(by: 2)
        let substituted = dim.substituting(["T": 2 * b])
        #expect(substituted == 2 * b * b + b)
        #expect(try substituted.evaluate(["B": 3]) == 21)
        #expect(dim.substituting([:]) == dim)
    }

    @Test func parsesItsOwnDescription() throws {
        let dims: [Dim] = [b, 28, b * t, 2 * b + 1, (t - 3).floorDivided(by: 2) + 1, -b + 1,
                           2 * t.floorDivided(by: 3), b * (t + 5).floorDivided(by: 4), -(t.floorDivided(by: 2)) - 7, 0]
        for dim in dims {
            var parser = try GraphParser(dim.description)
            #expect(try parser.parseDim() == dim, "\(dim)")
        }
    }

    @Test func shapesAndTypes() {
        let shape = Shape([b, 28, 28, 1])
        #expect(shape.description == "[B, 28, 28, 1]")
        #expect(Shape([]).description == "[]")
        #expect(shape.rank == 4)
        #expect(shape.elementCount == 784 * b)
        #expect(Shape([]).elementCount == 1)
        #expect(TensorType(.f32, shape).description == "f32[B, 28, 28, 1]")
    }

    @Test func dtypeProperties() {
        #expect(DType.f32.isFloatingPoint && !DType.f32.isInteger)
        #expect(DType.u8.isInteger && !DType.bool.isInteger)
        #expect(DType.allCases.map(\.byteSize) == [4, 8, 4, 8, 1, 1])
    }
}
