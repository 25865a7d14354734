/// A dimension: a canonical polynomial over symbolic sizes (`B`, `T`) with
/// integer coefficients, plus opaque floor-division atoms, so equal dims
/// compare equal (`B*T == T*B`, `2*B - B == B`).
///
/// Arithmetic on coefficients wraps on overflow (so absurd sizes in user input
/// never trap); `evaluate` reports overflow as an error.
public struct Dim: Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Coefficient of each monomial; zero coefficients are never stored.
    var terms: [DimMonomial: Int]

    init(terms: [DimMonomial: Int]) {
        self.terms = terms.filter { $0.value != 0 }
    }

    /// A constant dim.
    public init(integerLiteral value: Int) { self = .constant(value) }

    /// A constant dim.
    public static func constant(_ n: Int) -> Dim { Dim(terms: [.one: n]) }

    /// A symbolic size such as `B` or `T`.
    public static func symbol(_ name: String) -> Dim { Dim(terms: [DimMonomial([.symbol(name)]): 1]) }

    static func atom(_ atom: DimAtom) -> Dim { Dim(terms: [DimMonomial([atom]): 1]) }

    /// The value when the dim does not depend on any symbol.
    public var constantValue: Int? {
        if terms.isEmpty { return 0 }
        if terms.count == 1, let value = terms[.one] { return value }
        return nil
    }

    /// Every symbol the dim mentions, including inside divisions.
    public var symbols: Set<String> {
        var result = Set<String>()
        for monomial in terms.keys {
            for atom in monomial.atoms {
                switch atom {
                case .symbol(let name): result.insert(name)
                case .floorDiv(let inner, _): result.formUnion(inner.symbols)
                }
            }
        }
        return result
    }

    /// True when the dim is exactly one symbol with coefficient 1.
    var isSingleSymbol: Bool {
        guard terms.count == 1, let (monomial, coefficient) = terms.first, coefficient == 1,
              monomial.atoms.count == 1, case .symbol = monomial.atoms[0] else { return false }
        return true
    }

    /// The canonical sum.
    public static func + (lhs: Dim, rhs: Dim) -> Dim {
        var terms = lhs.terms
        for (monomial, coefficient) in rhs.terms {
            terms[monomial, default: 0] &+= coefficient
        }
        return Dim(terms: terms)
    }

    /// The canonical negation.
    public static prefix func - (operand: Dim) -> Dim {
        Dim(terms: operand.terms.mapValues { 0 &- $0 })
    }

    /// The canonical difference.
    public static func - (lhs: Dim, rhs: Dim) -> Dim { lhs + (-rhs) }

    /// The canonical product.
    public static func * (lhs: Dim, rhs: Dim) -> Dim {
        var terms: [DimMonomial: Int] = [:]
        for (leftMonomial, leftCoefficient) in lhs.terms {
            for (rightMonomial, rightCoefficient) in rhs.terms {
                terms[leftMonomial * rightMonomial, default: 0] &+= leftCoefficient &* rightCoefficient
            }
        }
        return Dim(terms: terms)
    }

    /// `floor(self / divisor)`, canonicalised: whole multiples of the divisor
    /// are taken out (`(4*B + 1)/2 == 2*B`), common factors cancel
    /// (`(2*B)/4 == B/2`), nested divisions merge, and the rest becomes an
    /// opaque atom. A zero divisor gives an atom that fails to evaluate.
    public func floorDivided(by divisor: Int) -> Dim {
        if divisor == 1 { return self }
        if divisor == 0 { return .atom(.floorDiv(self, 0)) }
        if divisor < 0 {
            let positive = 0 &- divisor
            return positive > 0 ? (-self).floorDivided(by: positive) : .atom(.floorDiv(self, divisor))
        }
        var quotient: [DimMonomial: Int] = [:]
        var remainder: [DimMonomial: Int] = [:]
        for (monomial, coefficient) in terms {
            let (q, r) = Dim.floorDivMod(coefficient, divisor)
            quotient[monomial] = q
            remainder[monomial] = r
        }
        let whole = Dim(terms: quotient)
        var rest = Dim(terms: remainder)
        if rest.constantValue != nil { return whole }  // 0 <= rest < divisor
        var common = divisor
        for coefficient in rest.terms.values { common = Dim.gcd(common, coefficient) }
        var reduced = divisor
        if common > 1 {
            rest = Dim(terms: rest.terms.mapValues { $0 / common })
            reduced = divisor / common
        }
        if rest.terms.count == 1, let (monomial, coefficient) = rest.terms.first, coefficient == 1,
           monomial.atoms.count == 1, case .floorDiv(let inner, let innerDivisor) = monomial.atoms[0],
           innerDivisor > 0 {
            let (product, overflow) = innerDivisor.multipliedReportingOverflow(by: reduced)
            if !overflow { return whole + inner.floorDivided(by: product) }
        }
        return whole + .atom(.floorDiv(rest, reduced))
    }

    /// Replaces symbols by dims and re-canonicalises.
    public func substituting(_ bindings: [String: Dim]) -> Dim {
        var result = Dim.constant(0)
        for (monomial, coefficient) in terms {
            var product = Dim.constant(coefficient)
            for atom in monomial.atoms {
                switch atom {
                case .symbol(let name): product = product * (bindings[name] ?? .symbol(name))
                case .floorDiv(let inner, let divisor):
                    product = product * inner.substituting(bindings).floorDivided(by: divisor)
                }
            }
            result = result + product
        }
        return result
    }

    /// The dim's value for concrete symbol sizes; throws `DimError` naming an
    /// unbound symbol, or on division by zero or overflow.
    public func evaluate(_ bindings: [String: Int]) throws -> Int {
        var total = 0
        for (monomial, coefficient) in terms {
            var product = coefficient
            for atom in monomial.atoms {
                let value: Int
                switch atom {
                case .symbol(let name):
                    guard let bound = bindings[name] else { throw DimError.unboundSymbol(name) }
                    value = bound
                case .floorDiv(let inner, let divisor):
                    guard divisor > 0 else { throw DimError.divisionByZero(self) }
                    value = Dim.floorDivMod(try inner.evaluate(bindings), divisor).quotient
                }
                let (next, overflow) = product.multipliedReportingOverflow(by: value)
                if overflow { throw DimError.overflow(self) }
                product = next
            }
            let (sum, overflow) = total.addingReportingOverflow(product)
            if overflow { throw DimError.overflow(self) }
            total = sum
        }
        return total
    }

    /// Canonical text: `B`, `28`, `B*T`, `2*B + 1`, `(T + 1)/2 - 1`; parseable by the IR parser.
    public var description: String {
        if terms.isEmpty { return "0" }
        let ordered = terms.keys.sorted(by: DimMonomial.printOrder)
        var text = ""
        for (position, monomial) in ordered.enumerated() {
            let coefficient = terms[monomial] ?? 0
            let magnitude = coefficient.magnitude
            let body: String
            if monomial.atoms.isEmpty {
                body = "\(magnitude)"
            } else {
                let wrap = monomial.atoms.count > 1 || magnitude != 1
                let product = monomial.atoms.map { $0.text(parenthesizeDivision: wrap) }.joined(separator: "*")
                body = magnitude == 1 ? product : "\(magnitude)*\(product)"
            }
            if position == 0 {
                text = coefficient < 0 ? "-" + body : body
            } else {
                text += coefficient < 0 ? " - " + body : " + " + body
            }
        }
        return text
    }

    /// Floor division and the matching non-negative remainder for a positive divisor.
    static func floorDivMod(_ value: Int, _ divisor: Int) -> (quotient: Int, remainder: Int) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var x = a.magnitude
        var y = b.magnitude
        while y != 0 { (x, y) = (y, x % y) }
        return Int(truncatingIfNeeded: x)
    }
}
