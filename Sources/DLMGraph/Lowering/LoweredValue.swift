import DLMSyntax

/// A tensor produced while lowering: a value of one graph in the stack of
/// graphs being built (the model's graph, or a scan body nested in it).
struct TensorRef: Hashable {
    /// Which graph defines the value (the lowerer's graph stack level).
    let level: Int
    let id: ValueID
    let type: TensorType
}

/// What a name or expression evaluates to while lowering. Tensors become
/// graph values; everything else (sizes, rates, activations, dtypes) is a
/// compile-time value consumed by layers and functions.
indirect enum LoweredValue {
    case tensor(TensorRef)
    case tuple([LoweredValue])
    case list([LoweredValue])
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    /// A symbolic size (`B`, `T * 10`), usable wherever an integer is.
    case dim(Dim)
    /// An element type name (`f32`).
    case dtype(DType)
    /// A name of something callable: an activation, a built-in function or
    /// layer, an initializer, or a user layer (passed as `activation: relu`
    /// or `scan(LSTMCell, …)`).
    case callable(Identifier)

    /// How the value is described in messages ("f32[B, 10]", "an integer").
    var userDescription: String {
        switch self {
        case .tensor(let t): "a tensor of type \(t.type)"
        case .tuple(let elements): "a tuple of \(elements.count) values"
        case .list: "a list"
        case .int(let v): "the integer \(v)"
        case .float(let v): "the number \(v)"
        case .bool(let v): "'\(v)'"
        case .string(let s): "the string \"\(s)\""
        case .dim(let d): "the size '\(d)'"
        case .dtype(let t): "the element type '\(t.rawValue)'"
        case .callable(let id): "'\(id.name)'"
        }
    }

    /// The value as a compile-time integer size (ints and dims).
    var asDim: Dim? {
        switch self {
        case .int(let v): .constant(v)
        case .dim(let d): d
        default: nil
        }
    }

    /// The value as a compile-time integer.
    var asInt: Int? {
        switch self {
        case .int(let v): v
        case .dim(let d): d.constantValue
        default: nil
        }
    }

    /// The value as a compile-time number.
    var asDouble: Double? {
        switch self {
        case .int(let v): Double(v)
        case .float(let v): v
        case .dim(let d): d.constantValue.map(Double.init)
        default: nil
        }
    }
}

/// Thrown to abandon the statement being lowered after its error has been
/// reported (or when it uses a value whose own statement failed), so one
/// mistake produces one diagnostic.
struct LoweringAbort: Error {}
