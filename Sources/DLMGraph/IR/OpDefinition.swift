/// Everything the compiler knows about one op, declared once: operands,
/// attributes, regions, type rule, extra checks, gradient rule (and, for
/// elementwise ops, the scalar expression). Later stages key kernels and
/// lowerings by `OpCode`.
public struct OpDefinition: Sendable {
    /// How many operands an op takes.
    public enum Arity: Hashable, Sendable, CustomStringConvertible {
        case fixed(Int)
        case variadic(minimum: Int)

        /// True if `count` operands are allowed.
        public func accepts(_ count: Int) -> Bool {
            switch self {
            case .fixed(let n): count == n
            case .variadic(let minimum): count >= minimum
            }
        }

        /// `1 operand`, `at least 1 operand`, ...
        public var description: String {
            switch self {
            case .fixed(let n): n == 1 ? "1 operand" : "\(n) operands"
            case .variadic(let minimum): "at least \(minimum) operand\(minimum == 1 ? "" : "s")"
            }
        }
    }

    /// One attribute of the op's schema.
    public struct AttributeSpec: Hashable, Sendable {
        /// The attribute's name.
        public let name: String
        /// The kind its value must have.
        public let kind: AttributeKind
        /// The value used when absent; `nil` means the attribute is required.
        public let defaultValue: Attribute?
        /// Whether the printer leaves the attribute out when it has its default
        /// (for attributes most nodes never set, such as a scan's residual count).
        public let isQuietAtDefault: Bool

        /// A required attribute.
        public static func required(_ name: String, _ kind: AttributeKind) -> AttributeSpec {
            AttributeSpec(name: name, kind: kind, defaultValue: nil, isQuietAtDefault: false)
        }

        /// An optional attribute with its default.
        public static func optional(_ name: String, _ kind: AttributeKind, default value: Attribute, quiet: Bool = false) -> AttributeSpec {
            AttributeSpec(name: name, kind: kind, defaultValue: value, isQuietAtDefault: quiet)
        }
    }

    /// Infers result types from operand types, (normalised) attributes and regions.
    public typealias TypeRule = @Sendable ([TensorType], AttributeReader, [Graph]) throws -> [TensorType]
    /// Extra checks beyond typing (value ranges, counts); throws `OpError`.
    public typealias Check = @Sendable ([TensorType], AttributeReader, [Graph]) throws -> Void

    /// The op's IR name.
    public let name: String
    /// One-line summary.
    public let summary: String
    /// An example in the textual IR.
    public let example: String
    /// Operand count.
    public let arity: Arity
    /// Attribute schema.
    public let attributes: [AttributeSpec]
    /// Number of regions (1 for `scan`, 0 otherwise).
    public let regionCount: Int
    /// The scalar definition, for elementwise ops.
    public let scalar: ScalarExpr?
    /// The type rule.
    public let inferTypes: TypeRule
    /// Extra checks.
    public let verify: Check
    /// How gradients flow back through the op; `nil` only while an op has no rule yet (a test lists such ops).
    public let gradient: Gradient?

    /// Declares an op.
    public init(name: String, summary: String, example: String, arity: Arity, attributes: [AttributeSpec] = [],
                regionCount: Int = 0, scalar: ScalarExpr? = nil, inferTypes: @escaping TypeRule,
                verify: @escaping Check = { _, _, _ in }, gradient: Gradient? = nil) {
        self.name = name
        self.summary = summary
        self.example = example
        self.arity = arity
        self.attributes = attributes
        self.regionCount = regionCount
        self.scalar = scalar
        self.inferTypes = inferTypes
        self.verify = verify
        self.gradient = gradient
    }

    /// The schema entry for an attribute name.
    public func attributeSpec(named name: String) -> AttributeSpec? {
        attributes.first { $0.name == name }
    }

    /// Checks attribute names and kinds, converts lossless kinds, and fills in
    /// defaults; throws `OpError` naming the op.
    public func normalize(_ given: [String: Attribute]) throws -> [String: Attribute] {
        var result: [String: Attribute] = [:]
        for key in given.keys.sorted() {
            guard let spec = attributeSpec(named: key), let value = given[key] else {
                throw OpError("\(name): unknown attribute '\(key)'")
            }
            guard let converted = value.coerced(to: spec.kind) else {
                throw OpError("\(name): attribute '\(key)' must be \(spec.kind.rawValue), not \(value.kind.rawValue)")
            }
            result[key] = converted
        }
        for spec in attributes where result[spec.name] == nil {
            guard let value = spec.defaultValue else {
                throw OpError("\(name): missing required attribute '\(spec.name)'")
            }
            result[spec.name] = value
        }
        return result
    }

    /// Checks arity, region count and the op's checks, then returns the
    /// inferred result types; throws `OpError` whose message starts with the op name.
    public func check(_ operandTypes: [TensorType], _ attributes: [String: Attribute], _ regions: [Graph]) throws -> [TensorType] {
        guard arity.accepts(operandTypes.count) else {
            throw OpError("\(name): expects \(arity), got \(operandTypes.count)")
        }
        guard regions.count == regionCount else {
            throw OpError("\(name): expects \(regionCount) region(s), got \(regions.count)")
        }
        let reader = AttributeReader(attributes)
        do {
            try verify(operandTypes, reader, regions)
            return try inferTypes(operandTypes, reader, regions)
        } catch let error as OpError {
            throw OpError("\(name): \(error.message)")
        }
    }
}

/// Typed, throwing access to a node's attributes inside type rules.
public struct AttributeReader: Sendable {
    /// The raw attributes.
    public let values: [String: Attribute]

    /// Wraps attributes.
    public init(_ values: [String: Attribute]) { self.values = values }

    private func missing(_ name: String, _ kind: AttributeKind) -> OpError {
        OpError("attribute '\(name)' must be present and \(kind.rawValue)")
    }

    /// An `int` attribute.
    public func int(_ name: String) throws -> Int {
        guard case .int(let value)? = values[name] else { throw missing(name, .int) }
        return value
    }

    /// A `float` attribute.
    public func float(_ name: String) throws -> Double {
        guard case .float(let value)? = values[name] else { throw missing(name, .float) }
        return value
    }

    /// A `bool` attribute.
    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let value)? = values[name] else { throw missing(name, .bool) }
        return value
    }

    /// A `string` attribute.
    public func string(_ name: String) throws -> String {
        guard case .string(let value)? = values[name] else { throw missing(name, .string) }
        return value
    }

    /// An `ints` attribute.
    public func ints(_ name: String) throws -> [Int] {
        guard case .ints(let value)? = values[name] else { throw missing(name, .ints) }
        return value
    }

    /// A `floats` attribute.
    public func floats(_ name: String) throws -> [Double] {
        guard case .floats(let value)? = values[name] else { throw missing(name, .floats) }
        return value
    }

    /// A `dims` attribute.
    public func dims(_ name: String) throws -> [Dim] {
        guard case .dims(let value)? = values[name] else { throw missing(name, .dims) }
        return value
    }

    /// A `dtype` attribute.
    public func dtype(_ name: String) throws -> DType {
        guard case .dtype(let value)? = values[name] else { throw missing(name, .dtype) }
        return value
    }
}
