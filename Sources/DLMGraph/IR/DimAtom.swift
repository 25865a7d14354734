/// A factor of a `Dim` monomial that is not a number: a symbolic size, or an
/// opaque floor division of a canonical dim by a positive integer.
indirect enum DimAtom: Hashable, Sendable, Comparable {
    case symbol(String)
    case floorDiv(Dim, Int)

    /// A deterministic ordering key (symbols before divisions, then by text).
    var sortKey: String {
        switch self {
        case .symbol(let name): "0" + name
        case .floorDiv(let inner, let divisor): "1(\(inner))/\(divisor)"
        }
    }

    static func < (lhs: DimAtom, rhs: DimAtom) -> Bool { lhs.sortKey < rhs.sortKey }

    /// Printed text; `parenthesizeDivision` wraps a division so it can sit inside a product.
    func text(parenthesizeDivision: Bool) -> String {
        switch self {
        case .symbol(let name):
            return name
        case .floorDiv(let inner, let divisor):
            let innerText = inner.isSingleSymbol ? inner.description : "(\(inner.description))"
            let text = "\(innerText)/\(divisor)"
            return parenthesizeDivision ? "(\(text))" : text
        }
    }
}

/// A product of atoms (sorted, with repetition); the empty product is the constant 1.
struct DimMonomial: Hashable, Sendable {
    var atoms: [DimAtom]

    init(_ atoms: [DimAtom]) { self.atoms = atoms.sorted() }

    static let one = DimMonomial([])

    var sortKey: String { atoms.map(\.sortKey).joined(separator: "*") }

    static func * (lhs: DimMonomial, rhs: DimMonomial) -> DimMonomial {
        DimMonomial(lhs.atoms + rhs.atoms)
    }

    /// Orders terms for printing: higher degree first, then by text; constants last.
    static func printOrder(_ lhs: DimMonomial, _ rhs: DimMonomial) -> Bool {
        if lhs.atoms.count != rhs.atoms.count { return lhs.atoms.count > rhs.atoms.count }
        return lhs.sortKey < rhs.sortKey
    }
}
