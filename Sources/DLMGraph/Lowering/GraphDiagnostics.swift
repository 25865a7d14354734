import DLMSyntax

/// The catalog of lowering, shape and training-configuration diagnostics.
/// Headlines are lowercase, name things in the user's terms and quote names.
extension DiagnosticMessage {
    // MARK: Declarations

    static func duplicateDeclaration(_ name: String) -> Self { .init(id: "duplicate_declaration", text: "'\(name)' is declared more than once") }
    static func shadowsBuiltin(_ name: String) -> Self { .init(id: "shadows_builtin", text: "layer '\(name)' has the name of a built-in; choose another name") }
    static func recursiveLayer(_ name: String, _ cycle: String) -> Self { .init(id: "recursive_layer", text: "layer '\(name)' calls itself recursively (\(cycle))") }
    static func missingReturn(_ kind: String, _ name: String) -> Self { .init(id: "missing_return", text: "\(kind) '\(name)' has no 'return'") }
    static let codeAfterReturn = Self(id: "code_after_return", text: "statement after 'return' is never run")
    static func redefinition(_ name: String) -> Self { .init(id: "redefinition", text: "'\(name)' is already defined; values cannot be reassigned") }
    static func modelInputDefault(_ name: String) -> Self { .init(id: "model_input_default", text: "model input '\(name)' cannot have a default value") }

    // MARK: Types and sizes

    static func unknownType(_ name: String) -> Self { .init(id: "unknown_type", text: "unknown element type '\(name)' (expected f32, f64, i32, i64 or bool)") }
    static func scalarTypeNotAllowed(_ name: String, _ role: String) -> Self { .init(id: "scalar_type_not_allowed", text: "\(role) must be a tensor type like f32[B, 10], not '\(name)'") }
    static func scalarWithShape(_ name: String) -> Self { .init(id: "scalar_with_shape", text: "configuration parameter '\(name)' cannot have a shape") }
    static func negativeDimension(_ value: Int) -> Self { .init(id: "negative_dimension", text: "dimension \(value) is negative") }
    static func unknownDimension(_ name: String) -> Self { .init(id: "unknown_dimension", text: "unknown size '\(name)'") }
    static let dimensionDivision = Self(id: "dimension_division", text: "sizes can only be divided by a positive whole number")
    static func symbolicParameterShape(_ name: String, _ type: String) -> Self { .init(id: "symbolic_parameter_shape", text: "parameter '\(name)' must have a fixed shape, but its type is \(type)") }
    static func symbolicFeatures(_ layer: String, _ type: String) -> Self { .init(id: "symbolic_features", text: "\(layer) needs a fixed feature size, but its input is \(type)") }
    static func symbolicSizeAsValue(_ dim: String) -> Self { .init(id: "symbolic_size_as_value", text: "size '\(dim)' cannot be used as a number here") }

    // MARK: Names and calls

    static func unknownName(_ name: String) -> Self { .init(id: "unknown_name", text: "cannot find '\(name)' in scope") }
    static func unknownFunction(_ name: String) -> Self { .init(id: "unknown_function", text: "unknown layer or function '\(name)'") }
    static func callNonFunction(_ name: String) -> Self { .init(id: "call_non_function", text: "'\(name)' is a value, not a layer or function") }
    static func initializerAsFunction(_ name: String) -> Self { .init(id: "initializer_as_function", text: "'\(name)' is an initializer; use it in a 'param' declaration or an *_initializer argument") }
    static func unknownArgument(_ label: String, _ callee: String) -> Self { .init(id: "unknown_argument", text: "\(callee) has no argument named '\(label)'") }
    static func duplicateArgument(_ label: String, _ callee: String) -> Self { .init(id: "duplicate_argument", text: "argument '\(label)' of \(callee) is given more than once") }
    static func tooManyArguments(_ callee: String, _ count: Int) -> Self { .init(id: "too_many_arguments", text: "too many arguments to \(callee) (it takes at most \(count))") }
    static func missingArgument(_ name: String, _ callee: String) -> Self { .init(id: "missing_argument", text: "missing argument '\(name)' in call to \(callee)") }
    static func argumentType(_ name: String, _ callee: String, _ expected: String, _ got: String) -> Self { .init(id: "argument_type", text: "argument '\(name)' of \(callee) must be \(expected), but got \(got)") }
    static func layerArgumentType(_ name: String, _ layer: String, _ expected: String, _ got: String) -> Self { .init(id: "layer_argument_type", text: "argument '\(name)' of \(layer) expects \(expected) but got \(got)") }
    static func conflictingSize(_ symbol: String, _ layer: String, _ first: String, _ firstOrigin: String, _ second: String, _ secondOrigin: String) -> Self {
        .init(id: "conflicting_size", text: "size '\(symbol)' of \(layer) is \(first) from \(firstOrigin) but \(second) from \(secondOrigin)")
    }
    static func mustBePositive(_ name: String, _ callee: String, _ value: Int) -> Self { .init(id: "must_be_positive", text: "argument '\(name)' of \(callee) must be positive, but got \(value)") }
    static func outOfRange(_ name: String, _ callee: String, _ range: String, _ value: String) -> Self { .init(id: "out_of_range", text: "argument '\(name)' of \(callee) must be in \(range), but got \(value)") }
    static func invalidChoice(_ name: String, _ callee: String, _ value: String, _ options: String) -> Self { .init(id: "invalid_choice", text: "'\(value)' is not a valid \(name) for \(callee) (expected \(options))") }
    static func invalidLayerName(_ name: String) -> Self { .init(id: "invalid_layer_name", text: "layer name \"\(name)\" may only contain letters, digits and '_'") }
    static func duplicateLayerName(_ name: String) -> Self { .init(id: "duplicate_layer_name", text: "two layers are named '\(name)'; layer names must be unique") }
    static func duplicateParameter(_ name: String) -> Self { .init(id: "duplicate_parameter", text: "parameter '\(name)' is defined twice; give one of the layers another name") }
    static func unknownActivation(_ name: String) -> Self { .init(id: "unknown_activation", text: "unknown activation '\(name)'") }
    static let expectedInitializer = Self(id: "expected_initializer", text: "expected an initializer")
    static func unknownInitializer(_ name: String) -> Self { .init(id: "unknown_initializer", text: "unknown initializer '\(name)'") }
    static func invalidInitializerRange(_ low: String, _ high: String) -> Self { .init(id: "invalid_initializer_range", text: "uniform initializer needs low < high, but got \(low) and \(high)") }
    static let expectedRegularizer = Self(id: "expected_regularizer", text: "expected a regularizer: l1(factor), l2(factor) or l1_l2(l1: a, l2: b)")
    static func cellArity(_ layer: String, _ given: Int, _ declared: Int) -> Self { .init(id: "cell_arity", text: "scan passes \(given) values to '\(layer)', which takes \(declared)") }
    static func scanNeedsLayer(_ written: String) -> Self { .init(id: "scan_needs_layer", text: "scan needs a user layer as its cell, but got \(written)") }

    // MARK: Values and tensors

    static func expectedTensor(_ role: String, _ got: String) -> Self { .init(id: "expected_tensor", text: "\(role) must be a tensor, but got \(got)") }
    static func destructureNonTuple(_ count: Int, _ got: String) -> Self { .init(id: "destructure_non_tuple", text: "cannot unpack \(got) into \(count) names") }
    static func destructureCount(_ names: Int, _ values: Int) -> Self { .init(id: "destructure_count", text: "cannot unpack \(values) values into \(names) names") }
    static let divisionByZero = Self(id: "division_by_zero", text: "division by zero")
    static let negateBool = Self(id: "negate_bool", text: "cannot negate a bool tensor")
    static func cannotNegate(_ got: String) -> Self { .init(id: "cannot_negate", text: "cannot negate \(got)") }
    static func arithmeticOnBool(_ op: String) -> Self { .init(id: "arithmetic_on_bool", text: "'\(op)' does not apply to bool tensors") }
    static func mixedElementTypes(_ op: String, _ lhs: String, _ rhs: String) -> Self { .init(id: "mixed_element_types", text: "\(op) needs operands of one element type, but got \(lhs) and \(rhs)") }
    static func fractionalForIntegerTensor(_ value: Double, _ dtype: String) -> Self { .init(id: "fractional_for_integer", text: "the number \(value) cannot be used with a \(dtype) tensor") }
    static func cannotBroadcast(_ op: String, _ lhs: String, _ rhs: String, _ a: String, _ b: String) -> Self {
        .init(id: "cannot_broadcast", text: "shapes of \(op) do not broadcast: \(lhs) and \(rhs) (size \(a) vs \(b))")
    }
    static func needsFloat(_ op: String, _ type: String) -> Self { .init(id: "needs_float", text: "\(op) needs a floating-point tensor, but got \(type)") }
    static func needsRank(_ op: String, _ rank: String, _ type: String) -> Self { .init(id: "needs_rank", text: "\(op) needs a tensor of rank \(rank), but got \(type)") }
    static func axisOutOfRange(_ axis: Int, _ rank: Int) -> Self { .init(id: "axis_out_of_range", text: "axis \(axis) is out of range for a rank-\(rank) tensor") }
    static func duplicateAxis(_ axis: Int) -> Self { .init(id: "duplicate_axis", text: "axis \(axis) is listed twice") }
    static func matmulRank(_ lhs: String, _ rhs: String) -> Self { .init(id: "matmul_rank", text: "'@' needs tensors of rank 2 or more, but got \(lhs) @ \(rhs)") }
    static func matmulInner(_ lhs: String, _ rhs: String, _ k1: String, _ k2: String) -> Self {
        .init(id: "matmul_inner", text: "inner sizes of '@' do not match: \(lhs) @ \(rhs) (\(k1) vs \(k2))")
    }
    static func matmulBatch(_ lhs: String, _ rhs: String) -> Self { .init(id: "matmul_batch", text: "batch sizes of '@' do not broadcast: \(lhs) @ \(rhs)") }
    static let reshapeManyInferred = Self(id: "reshape_many_inferred", text: "only one size of a reshape can be -1")
    static func reshapeSize(_ from: String, _ to: String) -> Self { .init(id: "reshape_size", text: "cannot reshape \(from) to \(to): the number of elements differs") }
    static func concatMismatch(_ a: String, _ b: String, _ axis: Int) -> Self { .init(id: "concat_mismatch", text: "cannot concatenate \(a) and \(b) along axis \(axis)") }
    static func sliceOutOfRange(_ start: Int, _ end: Int, _ axis: Int, _ type: String) -> Self { .init(id: "slice_out_of_range", text: "slice \(start)..<\(end) along axis \(axis) is out of range for \(type)") }

    // MARK: Layers

    static func denseRank(_ type: String) -> Self { .init(id: "dense_rank", text: "dense expects a rank-2 input [batch, features] (or rank 3 [batch, time, features]), but got \(type)") }
    static func expectsImage(_ layer: String, _ type: String) -> Self { .init(id: "expects_image", text: "\(layer) expects a rank-4 NHWC input [batch, height, width, channels], but got \(type)") }
    static func expectsSequence(_ layer: String, _ type: String) -> Self { .init(id: "expects_sequence", text: "\(layer) expects a sequence [batch, time, features], but got \(type)") }
    static func windowTooLarge(_ layer: String, _ window: String, _ type: String) -> Self { .init(id: "window_too_large", text: "\(layer) window \(window) is larger than its input \(type)") }
    static func samePaddingNeedsFixedSize(_ layer: String, _ type: String) -> Self { .init(id: "same_padding_symbolic", text: "\(layer) with padding 'same' needs a fixed height and width, but its input is \(type)") }
    static let batchNormOverBatch = Self(id: "batchnorm_over_batch", text: "batchnorm cannot normalise over the batch axis 0")
    static func sequenceLengthMismatch(_ a: String, _ b: String) -> Self { .init(id: "sequence_length_mismatch", text: "sequences of different lengths: \(a) and \(b)") }
    static func stateCountMismatch(_ expected: Int, _ got: Int) -> Self { .init(id: "state_count_mismatch", text: "the cell returns \(got) state values but its initial state has \(expected)") }
    static func stateTypeMismatch(_ expected: String, _ got: String) -> Self { .init(id: "state_type_mismatch", text: "the cell returns a state of type \(got) but its initial state is \(expected)") }

    // MARK: Results

    static func returnCount(_ kind: String, _ name: String, _ expected: Int, _ got: String) -> Self { .init(id: "return_count", text: "\(kind) '\(name)' must return \(expected) values, but returns \(got)") }
    static func returnNotTensor(_ name: String, _ got: String) -> Self { .init(id: "return_not_tensor", text: "'\(name)' must return tensors, but returns \(got)") }
    static func returnTypeMismatch(_ kind: String, _ name: String, _ expected: String, _ got: String, _ position: String) -> Self {
        .init(id: "return_type_mismatch", text: "\(kind) '\(name)' is declared to return \(expected) but returns \(got)\(position)")
    }

    // MARK: Train blocks

    static func unknownModel(_ name: String) -> Self { .init(id: "train_unknown_model", text: "train block names unknown model '\(name)'") }
    static func trainOnLayer(_ name: String) -> Self { .init(id: "train_on_layer", text: "'\(name)' is a layer; train blocks train models") }
    static func duplicateTrain(_ name: String) -> Self { .init(id: "duplicate_train", text: "model '\(name)' has more than one train block") }
    static func unknownTrainSetting(_ key: String) -> Self { .init(id: "unknown_train_setting", text: "unknown train setting '\(key)'") }
    static func duplicateTrainSetting(_ key: String) -> Self { .init(id: "duplicate_train_setting", text: "train setting '\(key)' is set more than once") }
    static func missingTrainSetting(_ key: String, _ model: String) -> Self { .init(id: "missing_train_setting", text: "train block for '\(model)' needs a '\(key)' setting") }
    static let epochsAndSteps = Self(id: "epochs_and_steps", text: "set either 'epochs' or 'steps', not both")
    static func trainValue(_ what: String, _ options: String) -> Self { .init(id: "train_value", text: "expected a \(what) (\(options))") }
    static func unknownTrainFunction(_ what: String, _ name: String, _ options: String) -> Self { .init(id: "unknown_train_function", text: "unknown \(what) '\(name)' (expected one of \(options))") }
    static func trainArgument(_ name: String, _ expected: String) -> Self { .init(id: "train_argument", text: "'\(name)' must be \(expected)") }
    static func trainArgumentValue(_ name: String, _ expected: String, _ got: String) -> Self { .init(id: "train_argument", text: "'\(name)' must be \(expected), but is \(got)") }
    static func inlineRowCount(_ x: Int, _ y: Int) -> Self { .init(id: "inline_row_count", text: "inline data needs the same positive number of rows in x and y, but has \(x) and \(y)") }

    // MARK: Internal

    static func internalOpError(_ op: String, _ message: String) -> Self { .init(id: "internal_op_error", text: "internal error: op '\(op)' rejected its operands: \(message)") }
}
