import CLLVM
import DLMGraph

/// Emits the scalar semantics of elementwise ops as LLVM instructions, from
/// the op's one `ScalarExpr` definition, matching the interpreter bit for bit
/// where it can: float32 ops compute in float32 (exp and tanh with the same
/// polynomials as `FastMath`, so they vectorise), everything else in double
/// precision with integer division truncating toward zero.
///
/// A value of dtype `d` is carried in `representation(d)`: `float` for f32,
/// `double` for every other dtype (integers and booleans are exact there, as
/// in the interpreter).
struct ScalarEmitter {
    let module: CodeModule
    private var b: LLVMBuilderRef { module.builder }

    func representation(_ dtype: DType) -> LLVMTypeRef { dtype == .f32 ? module.f32 : module.f64 }

    /// The type an element of `dtype` is stored as.
    func storage(_ dtype: DType) -> LLVMTypeRef {
        switch dtype {
        case .f32: module.f32
        case .f64: module.f64
        case .i32: module.i32
        case .i64: module.i64
        case .bool, .u8: module.i8
        }
    }

    // MARK: Memory

    /// Loads element `index` of a `dtype` buffer into its representation.
    func load(_ dtype: DType, _ base: LLVMValueRef?, _ index: LLVMValueRef?) -> LLVMValueRef? {
        switch dtype {
        case .f32: return module.load(module.f32, base, index)
        case .f64: return module.load(module.f64, base, index)
        case .i32: return LLVMBuildSIToFP(b, module.load(module.i32, base, index), module.f64, "")
        case .i64: return LLVMBuildSIToFP(b, module.load(module.i64, base, index), module.f64, "")
        case .bool, .u8: return LLVMBuildUIToFP(b, module.load(module.i8, base, index), module.f64, "")
        }
    }

    /// Stores a represented value into element `index` of a `dtype` buffer, as `BufferView.store` does.
    func store(_ value: LLVMValueRef?, _ dtype: DType, _ base: LLVMValueRef?, _ index: LLVMValueRef?) {
        switch dtype {
        case .f32: module.store(value, module.f32, base, index)
        case .f64: module.store(value, module.f64, base, index)
        case .bool:
            let nonzero = LLVMBuildFCmp(b, LLVMRealUNE, value, module.real(0, module.f64), "")
            module.store(LLVMBuildZExt(b, nonzero, module.i8, ""), module.i8, base, index)
        case .i32, .i64, .u8:
            // Toward zero, clamped, NaN and infinities to 0: never undefined behaviour.
            let clamped = minimum(maximum(intrinsic(.trunc, value), module.real(-9.2e18, module.f64)),
                                  module.real(9.2e18, module.f64))
            let finite = LLVMBuildFCmp(b, LLVMRealOLT, intrinsic(.fabs, value), module.real(.infinity, module.f64), "")
            let integer = LLVMBuildFPToSI(b, LLVMBuildSelect(b, finite, clamped, module.real(0, module.f64), ""), module.i64, "")
            let type = dtype == .i64 ? module.i64 : dtype == .i32 ? module.i32 : module.i8
            module.store(dtype == .i64 ? integer : LLVMBuildTrunc(b, integer, type, ""), type, base, index)
        }
    }

    /// Converts between the two representations (float and double).
    func convert(_ value: LLVMValueRef?, to type: LLVMTypeRef) -> LLVMValueRef? {
        let from = LLVMTypeOf(value)
        if from == type { return value }
        return type == module.f64 ? LLVMBuildFPExt(b, value, type, "") : LLVMBuildFPTrunc(b, value, type, "")
    }

    // MARK: Ops

    /// One element of an elementwise node: operands in their representations,
    /// the result in the representation of `result`.
    func elementwise(_ expression: ScalarExpr, operands: [LLVMValueRef?], operandTypes: [DType], result: DType,
                     attributes: [String: Attribute]) -> LLVMValueRef? {
        // The interpreter's rule: float32 throughout when nothing else is involved, else double.
        let single = operandTypes.allSatisfy { $0 == .f32 || $0 == .bool } && (result == .f32 || result == .bool)
        let compute = single ? module.f32 : module.f64
        let integer = operandTypes.first { $0 != .bool }?.isInteger ?? false
        let arguments = operands.map { convert($0, to: compute) }
        let value = evaluate(expression, arguments, attributes, compute, integer: !single && integer)
        return convert(conform(value, to: result), to: representation(result))
    }

    private func evaluate(_ expression: ScalarExpr, _ arguments: [LLVMValueRef?], _ attributes: [String: Attribute],
                          _ type: LLVMTypeRef, integer: Bool) -> LLVMValueRef? {
        func recurse(_ e: ScalarExpr) -> LLVMValueRef? { evaluate(e, arguments, attributes, type, integer: integer) }
        switch expression {
        case .arg(let index):
            return arguments.indices.contains(index) ? arguments[index] : module.real(.nan, type)
        case .constant(let value):
            return module.real(value, type)
        case .attribute(let name):
            return module.real(attributes[name]?.numericValue ?? .nan, type)
        case .unary(let op, let operand):
            return unary(op, recurse(operand), type)
        case .binary(let op, let lhs, let rhs):
            return binary(op, recurse(lhs), recurse(rhs), type, integer: integer)
        case .select(let condition, let lhs, let rhs):
            let chosen = LLVMBuildFCmp(b, LLVMRealUNE, recurse(condition), module.real(0, type), "")
            return LLVMBuildSelect(b, chosen, recurse(lhs), recurse(rhs), "")
        case .cast(let operand, let dtype):
            return conform(recurse(operand), to: dtype)
        }
    }

    /// `ScalarExpr.convert`: what a `dtype` element would hold, still in the compute type.
    func conform(_ value: LLVMValueRef?, to dtype: DType) -> LLVMValueRef? {
        let type = LLVMTypeOf(value)!
        switch dtype {
        case .f64: return value
        case .f32: return type == module.f32 ? value : LLVMBuildFPExt(b, LLVMBuildFPTrunc(b, value, module.f32, ""), type, "")
        case .bool: return boolean(LLVMBuildFCmp(b, LLVMRealUNE, value, module.real(0, type), ""), type)
        case .i32, .i64, .u8:
            let finite = LLVMBuildFCmp(b, LLVMRealOLT, intrinsic(.fabs, value), module.real(.infinity, type), "")
            return LLVMBuildSelect(b, finite, intrinsic(.trunc, value), module.real(0, type), "")
        }
    }

    private func boolean(_ bit: LLVMValueRef?, _ type: LLVMTypeRef) -> LLVMValueRef? {
        LLVMBuildSelect(b, bit, module.real(1, type), module.real(0, type), "")
    }

    private func unary(_ op: ScalarUnaryOp, _ x: LLVMValueRef?, _ type: LLVMTypeRef) -> LLVMValueRef? {
        let single = type == module.f32
        switch op {
        case .neg: return LLVMBuildFNeg(b, x, "")
        case .abs: return intrinsic(.fabs, x)
        case .sqrt: return intrinsic(.sqrt, x)
        case .exp: return single ? fastExp(x) : libm("exp", x)
        case .tanh: return single ? fastTanh(x) : libm("tanh", x)
        case .log: return libm(single ? "logf" : "log", x)
        case .erf: return libm(single ? "erff" : "erf", x)
        case .not: return boolean(LLVMBuildFCmp(b, LLVMRealOEQ, x, module.real(0, type), ""), type)
        }
    }

    private func binary(_ op: ScalarBinaryOp, _ x: LLVMValueRef?, _ y: LLVMValueRef?, _ type: LLVMTypeRef, integer: Bool) -> LLVMValueRef? {
        switch op {
        case .add: return LLVMBuildFAdd(b, x, y, "")
        case .sub: return LLVMBuildFSub(b, x, y, "")
        case .mul: return LLVMBuildFMul(b, x, y, "")
        case .div:
            let quotient = LLVMBuildFDiv(b, x, y, "")
            guard integer else { return quotient }
            let zero = LLVMBuildFCmp(b, LLVMRealOEQ, y, module.real(0, type), "")
            return LLVMBuildSelect(b, zero, module.real(0, type), intrinsic(.trunc, quotient), "")
        case .pow:
            // In double precision, as the interpreter does for every type.
            return convert(libm2("pow", convert(x, to: module.f64), convert(y, to: module.f64)), to: type)
        case .max: return maximum(x, y)
        case .min: return minimum(x, y)
        case .eq: return boolean(LLVMBuildFCmp(b, LLVMRealOEQ, x, y, ""), type)
        case .ne: return boolean(LLVMBuildFCmp(b, LLVMRealUNE, x, y, ""), type)
        case .lt: return boolean(LLVMBuildFCmp(b, LLVMRealOLT, x, y, ""), type)
        case .le: return boolean(LLVMBuildFCmp(b, LLVMRealOLE, x, y, ""), type)
        case .gt: return boolean(LLVMBuildFCmp(b, LLVMRealOGT, x, y, ""), type)
        case .ge: return boolean(LLVMBuildFCmp(b, LLVMRealOGE, x, y, ""), type)
        case .and, .or:
            let lhs = LLVMBuildFCmp(b, LLVMRealUNE, x, module.real(0, type), "")
            let rhs = LLVMBuildFCmp(b, LLVMRealUNE, y, module.real(0, type), "")
            return boolean(op == .and ? LLVMBuildAnd(b, lhs, rhs, "") : LLVMBuildOr(b, lhs, rhs, ""), type)
        }
    }

    /// `(x >= y || x.isNaN) ? x : y`: NaN-propagating and branch-free, as in the interpreter.
    func maximum(_ x: LLVMValueRef?, _ y: LLVMValueRef?) -> LLVMValueRef? {
        let keep = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealOGE, x, y, ""), LLVMBuildFCmp(b, LLVMRealUNO, x, x, ""), "")
        return LLVMBuildSelect(b, keep, x, y, "")
    }

    /// `(x <= y || x.isNaN) ? x : y`.
    func minimum(_ x: LLVMValueRef?, _ y: LLVMValueRef?) -> LLVMValueRef? {
        let keep = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealOLE, x, y, ""), LLVMBuildFCmp(b, LLVMRealUNO, x, x, ""), "")
        return LLVMBuildSelect(b, keep, x, y, "")
    }

    // MARK: float32 exp and tanh (FastMath's algorithms, instruction for instruction)

    private func c(_ value: Float) -> LLVMValueRef? { module.real(Double(value), module.f32) }
    private func mul(_ x: LLVMValueRef?, _ y: LLVMValueRef?) -> LLVMValueRef? { LLVMBuildFMul(b, x, y, "") }
    private func add(_ x: LLVMValueRef?, _ y: LLVMValueRef?) -> LLVMValueRef? { LLVMBuildFAdd(b, x, y, "") }
    private func sub(_ x: LLVMValueRef?, _ y: LLVMValueRef?) -> LLVMValueRef? { LLVMBuildFSub(b, x, y, "") }

    private func fastExp(_ value: LLVMValueRef?) -> LLVMValueRef? {
        let f = module.f32
        let isNaN = LLVMBuildFCmp(b, LLVMRealUNO, value, value, "")
        let low: Float = -103.972_08, high: Float = 88.722_84
        let clampedLow = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, value, c(low), ""), value, c(low), "")
        let clamped = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, clampedLow, c(high), ""), clampedLow, c(high), "")
        let x = LLVMBuildSelect(b, isNaN, c(0), clamped, "")
        let magic: Float = 12_582_912
        let shifted = add(mul(x, c(1.442_695_04)), c(magic))
        let k = sub(shifted, c(magic))
        let ki = LLVMBuildSub(b, LLVMBuildBitCast(b, shifted, module.i32, ""), module.int32(Int32(bitPattern: magic.bitPattern)), "")
        let r = add(sub(x, mul(k, c(0.693_359_375))), mul(k, c(2.121_944_4e-4)))
        var p = c(1.987_569_15e-4)
        for coefficient: Float in [1.398_199_950_7e-3, 8.333_451_907_3e-3, 4.166_579_589_4e-2, 1.666_666_545_9e-1, 5.000_000_120_1e-1] {
            p = add(mul(p, r), c(coefficient))
        }
        let e = add(add(mul(mul(p, r), r), r), c(1))
        let k1 = LLVMBuildAShr(b, ki, module.int32(1), "")
        let k2 = LLVMBuildSub(b, ki, k1, "")
        func power(_ k: LLVMValueRef?) -> LLVMValueRef? {
            LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, k, module.int32(127), ""), module.int32(23), ""), f, "")
        }
        let result = mul(mul(e, power(k1)), power(k2))
        let underflow = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, value, c(low), ""), c(0), result, "")
        let overflow = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, value, c(high), ""), c(.infinity), underflow, "")
        return LLVMBuildSelect(b, isNaN, value, overflow, "")
    }

    private func fastTanh(_ value: LLVMValueRef?) -> LLVMValueRef? {
        // Swift.max(v, lo) is `lo >= v ? lo : v` and Swift.min(v, hi) is `hi < v ? hi : v`: the same selects here.
        func clamp(_ v: LLVMValueRef?, _ bound: Float) -> LLVMValueRef? {
            let low = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGE, c(-bound), v, ""), c(-bound), v, "")
            return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, c(bound), low, ""), c(bound), low, "")
        }
        let x = clamp(value, 9)
        let z = mul(x, x)
        var p = c(1.335_519_6e-8)
        for coefficient: Float in [2.060_942_5e-5, 3.495_607_3e-3, 1.338_104_2e-1, 1] { p = add(mul(p, z), c(coefficient)) }
        var q = c(7.776_763_5e-7)
        for coefficient: Float in [3.285_667_3e-4, 2.587_705_3e-2, 4.671_435_7e-1, 1] { q = add(mul(q, z), c(coefficient)) }
        let t = clamp(LLVMBuildFDiv(b, mul(x, p), q, ""), 1)
        return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, value, value, ""), value, t, "")
    }

    // MARK: Calls

    enum Intrinsic: String { case fabs, sqrt, trunc }

    /// `llvm.<name>.f32|f64(x)`.
    func intrinsic(_ which: Intrinsic, _ x: LLVMValueRef?) -> LLVMValueRef? {
        let type = LLVMTypeOf(x)!
        let suffix = type == module.f32 ? "f32" : "f64"
        let signature = module.functionType(type, [type])
        return module.call(module.function("llvm.\(which.rawValue).\(suffix)", signature), signature, [x])
    }

    /// A one-argument libm function of the value's type.
    private func libm(_ name: String, _ x: LLVMValueRef?) -> LLVMValueRef? {
        let type = LLVMTypeOf(x)!
        let signature = module.functionType(type, [type])
        return module.call(module.function(name, signature), signature, [x])
    }

    private func libm2(_ name: String, _ x: LLVMValueRef?, _ y: LLVMValueRef?) -> LLVMValueRef? {
        let type = LLVMTypeOf(x)!
        let signature = module.functionType(type, [type, type])
        return module.call(module.function(name, signature), signature, [x, y])
    }
}
