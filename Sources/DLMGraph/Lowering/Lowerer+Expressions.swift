import DLMSyntax

extension Lowerer {
    /// Lowers an expression to a value: tensors become graph ops, the rest is computed now.
    func lowerExpression(_ expr: Expr) throws -> LoweredValue {
        switch expr {
        case .integer(let v, _): return .int(v)
        case .float(let v, _): return .float(v)
        case .string(let s, _): return .string(s)
        case .bool(let b, _): return .bool(b)
        case .name(let id): return try lookup(id)
        case .tuple(let elements, _): return .tuple(try elements.map(lowerExpression))
        case .list(let elements, _): return .list(try elements.map(lowerExpression))
        case .negate(let operand, let range):
            let value = try lowerExpression(operand)
            switch value {
            case .int(let v): return .int(0 &- v)
            case .float(let v): return .float(-v)
            case .dim(let d): return .dim(.constant(0) - d)
            case .tensor(let t):
                guard t.type.dtype != .bool else { throw fail(.negateBool, at: range) }
                return .tensor(try emit1(.neg, [t], at: range))
            default:
                throw fail(.cannotNegate(value.userDescription), at: range)
            }
        case .binary(let op, let lhs, let rhs, let operatorRange, _):
            let l = try lowerExpression(lhs)
            let r = try lowerExpression(rhs)
            return try binary(op, l, r, operatorRange: operatorRange, lhsRange: lhs.range, rhsRange: rhs.range)
        case .call(let callee, let arguments, let isPipelined, let range):
            if isPipelined { return try lowerPipeline(expr) }
            return try call(callee, arguments: arguments, isPipelined: false, range: range)
        }
    }

    /// Lowers `x |> f |> g |> …` from the inside out with a loop: the parser
    /// nests each stage's call around the previous one, and a model of many
    /// thousand piped layers must not need a stack frame per layer.
    private func lowerPipeline(_ expr: Expr) throws -> LoweredValue {
        var stages: [(callee: Identifier, arguments: [Argument], range: SourceRange)] = []
        var head = expr
        while case .call(let callee, let arguments, true, let range) = head, let piped = arguments.first {
            stages.append((callee, arguments, range))
            head = piped.value
        }
        var value = try lowerExpression(head)
        for stage in stages.reversed() {
            value = try call(stage.callee, arguments: stage.arguments, isPipelined: true, range: stage.range, piped: value)
        }
        return value
    }

    /// Resolves a bare name: a bound value, a size, an element type, or something callable.
    func lookup(_ id: Identifier) throws -> LoweredValue {
        if scope.poisoned.contains(id.name) { throw LoweringAbort() }
        if let bound = scope.values[id.name] { return bound.value }
        if let dim = scope.dims[id.name] { return .dim(dim) }
        if let dtype = DType(rawValue: id.name), dtype != .u8 { return .dtype(dtype) }
        if Builtins.table[id.name] != nil || layers[id.name] != nil || Initializers.names.contains(id.name) {
            return .callable(id)
        }
        let candidates = Array(scope.values.keys) + Array(scope.dims.keys)
        throw fail(.unknownName(id.name), at: id.range, notes: Suggestions.note(for: id.name, among: candidates))
    }

    /// Requires a value to be a tensor; scalars are accepted as 0-d constants of `dtype` when given.
    func tensor(_ value: LoweredValue, at range: SourceRange, role: String) throws -> TensorRef {
        if case .tensor(let t) = value { return t }
        if case .callable(let id) = value {
            throw fail(.expectedTensor(role, "function '\(id.name)'"), at: range,
                       notes: [DiagnosticNote("call it: \(id.name)(…)")])
        }
        throw fail(.expectedTensor(role, value.userDescription), at: range)
    }

    // MARK: Binary operators

    func binary(_ op: BinaryOperator, _ lhs: LoweredValue, _ rhs: LoweredValue,
                operatorRange: SourceRange, lhsRange: SourceRange, rhsRange: SourceRange) throws -> LoweredValue {
        if let folded = try foldScalars(op, lhs, rhs, at: operatorRange) { return folded }
        if op == .matmul {
            let a = try tensor(lhs, at: lhsRange, role: "left operand of '@'")
            let b = try tensor(rhs, at: rhsRange, role: "right operand of '@'")
            return .tensor(try matmul(a, b, at: operatorRange))
        }
        // Scalars next to a tensor become constants of the tensor's element type.
        let (a, b) = try tensorPair(lhs, rhs, lhsRange: lhsRange, rhsRange: rhsRange, operatorRange: operatorRange, symbol: op.rawValue)
        let opcode: OpCode = switch op {
        case .add: .add
        case .subtract: .sub
        case .multiply: .mul
        case .divide: .div
        case .equal: .eq
        case .notEqual: .ne
        case .less: .lt
        case .lessEqual: .le
        case .greater: .gt
        case .greaterEqual: .ge
        case .matmul: .matmul
        }
        let isArithmetic = [.add, .subtract, .multiply, .divide].contains(op)
        if isArithmetic && a.type.dtype == .bool {
            throw fail(.arithmeticOnBool(op.rawValue), at: operatorRange)
        }
        return .tensor(try elementwise(opcode, a, b, at: operatorRange, symbol: "'\(op.rawValue)'"))
    }

    /// Turns an operand pair with at least one tensor into two tensors of one element type.
    func tensorPair(_ lhs: LoweredValue, _ rhs: LoweredValue, lhsRange: SourceRange, rhsRange: SourceRange,
                    operatorRange: SourceRange, symbol: String) throws -> (TensorRef, TensorRef) {
        switch (lhs, rhs) {
        case (.tensor(let a), .tensor(let b)):
            guard a.type.dtype == b.type.dtype else {
                throw fail(.mixedElementTypes(symbol, a.type.description, b.type.description), at: operatorRange,
                           notes: [DiagnosticNote("convert one side with cast(x, \(a.type.dtype.rawValue))")])
            }
            return (a, b)
        case (.tensor(let a), _):
            return (a, try scalarConstant(rhs, dtype: a.type.dtype, at: rhsRange, role: "right operand of '\(symbol)'"))
        case (_, .tensor(let b)):
            return (try scalarConstant(lhs, dtype: b.type.dtype, at: lhsRange, role: "left operand of '\(symbol)'"), b)
        default:
            throw fail(.expectedTensor("operand of '\(symbol)'", lhs.userDescription), at: lhsRange)
        }
    }

    /// A 0-d constant tensor from a compile-time number.
    func scalarConstant(_ value: LoweredValue, dtype: DType, at range: SourceRange, role: String) throws -> TensorRef {
        let number: Double
        switch value {
        case .int(let v): number = Double(v)
        case .float(let v):
            guard dtype.isFloatingPoint else {
                throw fail(.fractionalForIntegerTensor(v, dtype.rawValue), at: range)
            }
            number = v
        case .bool(let b):
            guard dtype == .bool else { throw fail(.expectedTensor(role, value.userDescription), at: range) }
            number = b ? 1 : 0
        case .dim(let d):
            guard let c = d.constantValue else {
                throw fail(.symbolicSizeAsValue(d.description), at: range,
                           notes: [DiagnosticNote("sizes like '\(d)' are known only when the model runs; use a fixed number here")])
            }
            number = Double(c)
        case .tensor(let t):
            return t
        default:
            throw fail(.expectedTensor(role, value.userDescription), at: range)
        }
        return try constant(number, dtype: dtype, at: range)
    }

    /// Emits a 0-d constant.
    func constant(_ number: Double, dtype: DType, at range: SourceRange) throws -> TensorRef {
        try emit1(.constant, [], attributes: ["dtype": .dtype(dtype), "shape": .dims([]), "values": .floats([number])], at: range)
    }

    /// Folds operators whose operands are all compile-time numbers or sizes.
    private func foldScalars(_ op: BinaryOperator, _ lhs: LoweredValue, _ rhs: LoweredValue, at range: SourceRange) throws -> LoweredValue? {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)):
            switch op {
            case .add: return .int(a &+ b)
            case .subtract: return .int(a &- b)
            case .multiply: return .int(a &* b)
            case .divide:
                guard b != 0 else { throw fail(.divisionByZero, at: range) }
                return .float(Double(a) / Double(b))
            case .matmul: throw fail(.expectedTensor("operand of '@'", lhs.userDescription), at: range)
            default: return .bool(compare(op, Double(a), Double(b)))
            }
        case (.dim, _), (_, .dim):
            guard let a = lhs.asDim, let b = rhs.asDim else { return nil }
            switch op {
            case .add: return .dim(a + b)
            case .subtract: return .dim(a - b)
            case .multiply: return .dim(a * b)
            case .divide:
                guard let divisor = b.constantValue, divisor > 0 else { throw fail(.dimensionDivision, at: range) }
                return .dim(a.floorDivided(by: divisor))
            default:
                throw fail(.symbolicSizeAsValue(a.description), at: range)
            }
        default:
            guard let a = lhs.asDouble, let b = rhs.asDouble, !isTensor(lhs), !isTensor(rhs) else { return nil }
            switch op {
            case .add: return .float(a + b)
            case .subtract: return .float(a - b)
            case .multiply: return .float(a * b)
            case .divide: return .float(a / b)
            case .matmul: throw fail(.expectedTensor("operand of '@'", lhs.userDescription), at: range)
            default: return .bool(compare(op, a, b))
            }
        }
    }

    private func isTensor(_ value: LoweredValue) -> Bool {
        if case .tensor = value { return true }
        return false
    }

    private func compare(_ op: BinaryOperator, _ a: Double, _ b: Double) -> Bool {
        switch op {
        case .equal: a == b
        case .notEqual: a != b
        case .less: a < b
        case .lessEqual: a <= b
        case .greater: a > b
        default: a >= b
        }
    }
}
