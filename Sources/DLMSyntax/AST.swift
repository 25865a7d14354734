/// The abstract syntax tree of a `.dlm` file. Plain data: every node carries
/// the source range it came from so later stages can point back at it.

/// A parsed source file.
public struct SourceUnit: Sendable {
    /// The file the declarations came from.
    public let file: SourceFile
    /// Top-level declarations in source order.
    public var declarations: [Declaration]

    /// Creates a source unit.
    public init(file: SourceFile, declarations: [Declaration]) {
        self.file = file
        self.declarations = declarations
    }

    /// The model declarations, in source order.
    public var models: [FunctionDecl] {
        declarations.compactMap { if case .model(let m) = $0 { m } else { nil } }
    }

    /// The user-defined layer declarations, in source order.
    public var layers: [FunctionDecl] {
        declarations.compactMap { if case .layer(let l) = $0 { l } else { nil } }
    }

    /// The train declarations, in source order.
    public var trains: [TrainDecl] {
        declarations.compactMap { if case .train(let t) = $0 { t } else { nil } }
    }
}

/// A top-level declaration.
public enum Declaration: Sendable {
    case model(FunctionDecl)
    case layer(FunctionDecl)
    case train(TrainDecl)
}

/// An identifier with its location.
public struct Identifier: Hashable, Sendable {
    /// The name as written.
    public let name: String
    /// Where it was written.
    public let range: SourceRange

    /// Creates an identifier.
    public init(_ name: String, range: SourceRange) {
        self.name = name
        self.range = range
    }
}

/// A model or a user-defined layer: a name, parameters, a result type and a body.
public struct FunctionDecl: Sendable {
    /// `model` or `layer`.
    public enum Kind: String, Sendable { case model, layer }

    public let kind: Kind
    public let name: Identifier
    /// Doc comment lines (`##`) written before the declaration.
    public let doc: [String]
    public let parameters: [ParameterDecl]
    public let result: ResultType
    public let body: [Statement]
    /// From the keyword to the closing brace.
    public let range: SourceRange
    /// The range of the closing brace (where "missing return" points).
    public let closingBrace: SourceRange

    /// Creates a declaration.
    public init(kind: Kind, name: Identifier, doc: [String], parameters: [ParameterDecl], result: ResultType,
                body: [Statement], range: SourceRange, closingBrace: SourceRange) {
        self.kind = kind
        self.name = name
        self.doc = doc
        self.parameters = parameters
        self.result = result
        self.body = body
        self.range = range
        self.closingBrace = closingBrace
    }
}

/// A parameter of a model or layer: `x: f32[B, 784]`, `units: int = 64`.
public struct ParameterDecl: Sendable {
    public let name: Identifier
    public let type: TypeExpr
    /// The default value (scalar configuration parameters only).
    public let defaultValue: Expr?

    /// Creates a parameter.
    public init(name: Identifier, type: TypeExpr, defaultValue: Expr?) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
    }

    /// From the name to the end of the type or default.
    public var range: SourceRange { name.range.union(defaultValue?.range ?? type.range) }
}

/// A written type: an element or scalar type name with an optional shape.
public struct TypeExpr: Sendable {
    /// `f32`, `i32`, …, or a scalar configuration type (`int`, `float`, `bool`, `string`).
    public let name: Identifier
    /// The dimensions, or `nil` when no brackets were written.
    public let shape: [DimExpr]?
    public let range: SourceRange

    /// Creates a type expression.
    public init(name: Identifier, shape: [DimExpr]?, range: SourceRange) {
        self.name = name
        self.shape = shape
        self.range = range
    }
}

/// A written dimension: a size, a symbol, or arithmetic over them.
public indirect enum DimExpr: Sendable {
    case integer(Int, SourceRange)
    case symbol(Identifier)
    case binary(DimOperator, DimExpr, DimExpr, SourceRange)

    /// Operators allowed inside shapes.
    public enum DimOperator: String, Sendable { case add = "+", subtract = "-", multiply = "*", divide = "/" }

    /// Where the dimension was written.
    public var range: SourceRange {
        switch self {
        case .integer(_, let r), .binary(_, _, _, let r): r
        case .symbol(let id): id.range
        }
    }
}

/// The declared result of a model or layer.
public struct ResultType: Sendable {
    /// The result types with optional output names; one element for a plain type.
    public let elements: [(name: Identifier?, type: TypeExpr)]
    /// Whether the result was written as a parenthesised tuple.
    public let isTuple: Bool
    public let range: SourceRange

    /// Creates a result type.
    public init(elements: [(name: Identifier?, type: TypeExpr)], isTuple: Bool, range: SourceRange) {
        self.elements = elements
        self.isTuple = isTuple
        self.range = range
    }
}

/// A statement in a model or layer body.
public enum Statement: Sendable {
    /// `name = expr` or `(a, b) = expr`.
    case assign(targets: [Identifier], isTuple: Bool, value: Expr, range: SourceRange)
    /// `param w: f32[784, 10] = glorot_uniform`.
    case param(ParamDecl)
    /// `return expr`.
    case `return`(Expr, range: SourceRange)

    /// Where the statement was written.
    public var range: SourceRange {
        switch self {
        case .assign(_, _, _, let r), .return(_, let r): r
        case .param(let p): p.range
        }
    }
}

/// An explicit parameter declaration inside a body.
public struct ParamDecl: Sendable {
    public let name: Identifier
    public let doc: [String]
    public let type: TypeExpr
    public let initializer: Expr
    public let range: SourceRange

    /// Creates a parameter declaration.
    public init(name: Identifier, doc: [String], type: TypeExpr, initializer: Expr, range: SourceRange) {
        self.name = name
        self.doc = doc
        self.type = type
        self.initializer = initializer
        self.range = range
    }
}

/// A `train` block: settings for training the model it names.
public struct TrainDecl: Sendable {
    public let model: Identifier
    public let doc: [String]
    public let settings: [TrainSetting]
    public let range: SourceRange

    /// Creates a train declaration.
    public init(model: Identifier, doc: [String], settings: [TrainSetting], range: SourceRange) {
        self.model = model
        self.doc = doc
        self.settings = settings
        self.range = range
    }
}

/// One `key = value` line of a train block.
public struct TrainSetting: Sendable {
    public let key: Identifier
    public let value: Expr

    /// Creates a setting.
    public init(key: Identifier, value: Expr) {
        self.key = key
        self.value = value
    }
}

/// Binary operators in expressions.
public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", matmul = "@"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

/// A call argument: positional (`label == nil`) or keyword (`units: 64`).
public struct Argument: Sendable {
    public let label: Identifier?
    public let value: Expr

    /// Creates an argument.
    public init(label: Identifier?, value: Expr) {
        self.label = label
        self.value = value
    }

    /// From the label (if any) to the end of the value.
    public var range: SourceRange { label.map { $0.range.union(value.range) } ?? value.range }
}

/// An expression.
public indirect enum Expr: Sendable {
    case integer(Int, SourceRange)
    case float(Double, SourceRange)
    case string(String, SourceRange)
    case bool(Bool, SourceRange)
    case name(Identifier)
    /// `f(args)`; `isPipelined` marks calls built from `x |> f(args)` (the
    /// piped value is the first argument).
    case call(callee: Identifier, arguments: [Argument], isPipelined: Bool, range: SourceRange)
    /// A binary operation; `operatorRange` is the operator token, where errors about it point.
    case binary(BinaryOperator, Expr, Expr, operatorRange: SourceRange, range: SourceRange)
    case negate(Expr, range: SourceRange)
    case tuple([Expr], range: SourceRange)
    case list([Expr], range: SourceRange)

    /// The whole expression's range.
    public var range: SourceRange {
        switch self {
        case .integer(_, let r), .float(_, let r), .string(_, let r), .bool(_, let r): r
        case .name(let id): id.range
        case .call(_, _, _, let r), .binary(_, _, _, _, let r), .negate(_, let r), .tuple(_, let r), .list(_, let r): r
        }
    }
}
