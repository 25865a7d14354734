import DLMSyntax

/// Checks a `train` block: known settings, well-formed values, required
/// settings present. It reads values without running anything.
struct TrainingChecker {
    let diagnostics: DiagnosticEngine

    static let settings = ["data", "validate", "loss", "optimizer", "epochs", "steps", "batch", "metrics", "seed", "shuffle", "callbacks"]
    static let metrics = ["accuracy", "precision", "recall", "f1", "mse", "mae"]
    /// A typical line for each required setting, shown when it is missing.
    static let examples = [
        "data": "data = csv(path: \"train.csv\", label: -1)",
        "loss": "loss = sparse_categorical_crossentropy",
        "optimizer": "optimizer = adam(lr: 0.001)",
    ]

    private struct Invalid: Error {}

    func check(_ train: TrainDecl) -> TrainingConfig? {
        var seen: [String: TrainSetting] = [:]
        var ok = true
        for setting in train.settings {
            let key = setting.key.name
            guard Self.settings.contains(key) else {
                diagnostics.error(.unknownTrainSetting(key), at: setting.key.range,
                                  notes: Suggestions.note(for: key, among: Self.settings))
                ok = false
                continue
            }
            if let previous = seen[key] {
                diagnostics.error(.duplicateTrainSetting(key), at: setting.key.range,
                                  notes: [DiagnosticNote("'\(key)' first set here", at: previous.key.range)])
                ok = false
                continue
            }
            seen[key] = setting
        }
        for required in ["data", "loss", "optimizer"] where seen[required] == nil {
            diagnostics.error(.missingTrainSetting(required, train.model.name), at: train.model.range,
                              notes: [DiagnosticNote("for example: \(Self.examples[required] ?? required)")])
            ok = false
        }
        func read<T>(_ key: String, _ parse: (Expr) throws -> T) -> T? {
            guard let setting = seen[key] else { return nil }
            do { return try parse(setting.value) } catch { ok = false; return nil }
        }
        let data = read("data") { try dataSource($0) }
        let validation = read("validate") { try validationSource($0) }
        let loss = read("loss") { try lossFunction($0) }
        let optimizerSettings = read("optimizer") { try optimizerSpec($0) }
        let optimizer = optimizerSettings?.optimizer
        let epochs = read("epochs") { try positiveInt($0, "epochs") }
        let steps = read("steps") { try positiveInt($0, "steps") }
        let batch = read("batch") { try positiveInt($0, "batch") }
        let metrics = read("metrics") { try metricList($0) }
        let seed = read("seed") { try integer($0, "seed") }
        let shuffle = read("shuffle") { try boolean($0, "shuffle") }
        let earlyStopping = read("callbacks") { try callbackList($0) } ?? nil
        if let e = seen["epochs"], let s = seen["steps"] {
            diagnostics.error(.epochsAndSteps, at: s.key.range, notes: [DiagnosticNote("'epochs' is set here", at: e.key.range)])
            ok = false
        }
        guard ok, let data, let loss, let optimizer else { return nil }
        return TrainingConfig(data: data, validation: validation, loss: loss, optimizer: optimizer,
                              schedule: optimizerSettings?.schedule, clipNorm: optimizerSettings?.clipNorm, epochs: epochs ?? 1, steps: steps,
                              batch: batch ?? 32, metrics: metrics ?? [], seed: seed ?? 0, shuffle: shuffle ?? true,
                              earlyStopping: earlyStopping)
    }

    // MARK: Values

    private func fail(_ message: DiagnosticMessage, at range: SourceRange, notes: [DiagnosticNote] = []) -> Invalid {
        diagnostics.error(message, at: range, notes: notes)
        return Invalid()
    }

    /// A call or bare name: its callee and keyword/positional arguments bound to `signature`.
    private func call(_ expr: Expr, allowed: [String], what: String, signature: (String) -> [String]) throws -> (Identifier, [String: Expr]) {
        let callee: Identifier
        var arguments: [Argument] = []
        switch expr {
        case .name(let id): callee = id
        case .call(let id, let args, _, _): callee = id; arguments = args
        default: throw fail(.trainValue(what, allowed.joined(separator: ", ")), at: expr.range)
        }
        guard allowed.contains(callee.name) else {
            throw fail(.unknownTrainFunction(what, callee.name, allowed.joined(separator: ", ")), at: callee.range,
                       notes: Suggestions.note(for: callee.name, among: allowed))
        }
        let names = signature(callee.name)
        var bound: [String: Expr] = [:]
        var position = 0
        for argument in arguments {
            let name: String
            if let label = argument.label {
                guard names.contains(label.name) else {
                    throw fail(.unknownArgument(label.name, callee.name), at: label.range, notes: Suggestions.note(for: label.name, among: names))
                }
                name = label.name
            } else {
                guard position < names.count else { throw fail(.tooManyArguments(callee.name, names.count), at: argument.value.range) }
                name = names[position]
                position += 1
            }
            guard bound[name] == nil else { throw fail(.duplicateArgument(name, callee.name), at: argument.range) }
            bound[name] = argument.value
        }
        return (callee, bound)
    }

    private func number(_ expr: Expr?, _ name: String, default fallback: Double, positive: Bool = false) throws -> Double {
        guard let expr else { return fallback }
        let value: Double
        switch expr {
        case .integer(let v, _): value = Double(v)
        case .float(let v, _): value = v
        case .negate(.integer(let v, _), _): value = -Double(v)
        case .negate(.float(let v, _), _): value = -v
        default: throw fail(.trainArgument(name, "a number"), at: expr.range)
        }
        guard value >= 0, !positive || value > 0 else { throw fail(.trainArgument(name, positive ? "a positive number" : "a non-negative number"), at: expr.range) }
        return value
    }

    private func flag(_ expr: Expr?, _ name: String, default fallback: Bool) throws -> Bool {
        guard let expr else { return fallback }
        return try boolean(expr, name)
    }

    private func boolean(_ expr: Expr, _ name: String) throws -> Bool {
        guard case .bool(let b, _) = expr else { throw fail(.trainArgument(name, "true or false"), at: expr.range) }
        return b
    }

    private func integer(_ expr: Expr, _ name: String, expected: String = "a whole number") throws -> Int {
        switch expr {
        case .integer(let v, _): return v
        case .negate(.integer(let v, _), _): return 0 &- v
        default: throw fail(.trainArgument(name, expected), at: expr.range)
        }
    }

    private func positiveInt(_ expr: Expr, _ name: String) throws -> Int {
        let v = try integer(expr, name, expected: "a positive whole number")
        guard v > 0 else { throw fail(.trainArgumentValue(name, "a positive whole number", String(v)), at: expr.range) }
        return v
    }

    private func path(_ expr: Expr?, _ name: String, in callee: Identifier) throws -> String {
        guard let expr else { throw fail(.missingArgument(name, callee.name), at: callee.range) }
        guard case .string(let s, _) = expr, !s.isEmpty else { throw fail(.trainArgument(name, "a file path string"), at: expr.range) }
        return s
    }

    private func dataSource(_ expr: Expr) throws -> DataSource {
        // `source / 255` and `source * 0.5` scale the features.
        if case .binary(let op, let lhs, let rhs, _, _) = expr, op == .divide || op == .multiply {
            var source = try dataSource(lhs)
            let factor = try number(rhs, "scale", default: 1, positive: true)
            source.scale *= op == .divide ? 1 / factor : factor
            return source
        }
        let (callee, args) = try call(expr, allowed: ["idx", "csv", "npy", "inline"], what: "data source") { name in
            switch name {
            case "idx": ["images", "labels"]
            case "csv": ["path", "label", "header"]
            case "npy": ["x", "y"]
            default: ["x", "y"]
            }
        }
        let kind: DataSource.Kind
        switch callee.name {
        case "idx": kind = .idx(images: try path(args["images"], "images", in: callee), labels: try path(args["labels"], "labels", in: callee))
        case "npy": kind = .npy(x: try path(args["x"], "x", in: callee), y: try path(args["y"], "y", in: callee))
        case "csv":
            let label: String
            switch args["label"] {
            case nil: label = "-1"
            case .integer(let i, _)?: label = String(i)
            case .negate(.integer(let i, _), _)?: label = String(-i)
            case .string(let s, _)?: label = s
            case let other?: throw fail(.trainArgument("label", "a column index or name"), at: other.range)
            }
            kind = .csv(path: try path(args["path"], "path", in: callee), label: label,
                        header: try args["header"].map { try boolean($0, "header") })
        default:
            guard let x = args["x"], let y = args["y"] else { throw fail(.missingArgument(args["x"] == nil ? "x" : "y", "inline"), at: callee.range) }
            let rowsX = try rows(x, "x"), rowsY = try rows(y, "y")
            guard rowsX.count == rowsY.count, !rowsX.isEmpty else {
                throw fail(.inlineRowCount(rowsX.count, rowsY.count), at: expr.range)
            }
            kind = .inline(x: rowsX, y: rowsY)
        }
        return DataSource(kind: kind, scale: 1, range: expr.range)
    }

    /// A list of equally long numeric rows (a list of numbers is a column).
    private func rows(_ expr: Expr, _ name: String) throws -> [[Double]] {
        guard case .list(let items, _) = expr else { throw fail(.trainArgument(name, "a list of rows like [[1, 2], [3, 4]]"), at: expr.range) }
        var result: [[Double]] = []
        for item in items {
            if case .list(let cells, _) = item {
                result.append(try cells.map { try signedNumber($0, name) })
            } else {
                result.append([try signedNumber(item, name)])
            }
        }
        guard let width = result.first?.count, result.allSatisfy({ $0.count == width }) else {
            throw fail(.trainArgument(name, "rows of equal length"), at: expr.range)
        }
        return result
    }

    private func signedNumber(_ expr: Expr, _ name: String) throws -> Double {
        switch expr {
        case .integer(let v, _): Double(v)
        case .float(let v, _): v
        case .negate(let inner, _): -(try signedNumber(inner, name))
        default: throw fail(.trainArgument(name, "numbers"), at: expr.range)
        }
    }

    private func validationSource(_ expr: Expr) throws -> Validation {
        if case .call(let callee, let args, _, _) = expr, callee.name == "split" {
            guard args.count == 1 else { throw fail(.trainArgument("split", "one fraction, like split(0.1)"), at: expr.range) }
            let fraction = try number(args[0].value, "split", default: 0.1, positive: true)
            guard fraction < 1 else { throw fail(.trainArgument("split", "a fraction between 0 and 1"), at: args[0].value.range) }
            return .split(fraction)
        }
        return .source(try dataSource(expr))
    }

    private func lossFunction(_ expr: Expr) throws -> Loss {
        let losses = ["mse", "mae", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"]
        let (callee, args) = try call(expr, allowed: losses, what: "loss") { name in
            switch name {
            case "categorical_crossentropy": ["from_logits", "label_smoothing"]
            case "binary_crossentropy", "sparse_categorical_crossentropy": ["from_logits"]
            default: []
            }
        }
        let logits = try flag(args["from_logits"], "from_logits", default: false)
        switch callee.name {
        case "mse": return .meanSquaredError
        case "mae": return .meanAbsoluteError
        case "binary_crossentropy": return .binaryCrossEntropy(fromLogits: logits)
        case "categorical_crossentropy":
            let smoothing = try number(args["label_smoothing"], "label_smoothing", default: 0)
            guard smoothing < 1 else { throw fail(.trainArgument("label_smoothing", "a fraction below 1"), at: args["label_smoothing"]?.range ?? callee.range) }
            return .categoricalCrossEntropy(fromLogits: logits, labelSmoothing: smoothing)
        default: return .sparseCategoricalCrossEntropy(fromLogits: logits)
        }
    }

    private func optimizerSpec(_ expr: Expr) throws -> (optimizer: Optimizer, schedule: LearningRateSchedule?, clipNorm: Double?) {
        let (callee, args) = try call(expr, allowed: ["sgd", "rmsprop", "adam", "adamw"], what: "optimizer") { name in
            switch name {
            case "sgd": ["lr", "momentum", "nesterov", "clipnorm"]
            case "rmsprop": ["lr", "rho", "momentum", "epsilon", "clipnorm"]
            case "adamw": ["lr", "beta1", "beta2", "epsilon", "weight_decay", "clipnorm"]
            default: ["lr", "beta1", "beta2", "epsilon", "clipnorm"]
            }
        }
        func fraction(_ name: String, _ fallback: Double) throws -> Double {
            let v = try number(args[name], name, default: fallback)
            guard v < 1 else { throw fail(.trainArgument(name, "a number in [0, 1)"), at: args[name]?.range ?? callee.range) }
            return v
        }
        // `lr:` is a number or a schedule whose initial rate it starts from.
        var schedule: LearningRateSchedule?
        if let lr = args["lr"], case .call = lr { schedule = try learningRateSchedule(lr) }
        func learningRate(_ fallback: Double) throws -> Double {
            if let schedule { return schedule.learningRate(atStep: 0) }
            return try number(args["lr"], "lr", default: fallback, positive: true)
        }
        let clipNorm = try args["clipnorm"].map { try number($0, "clipnorm", default: 1, positive: true) }
        let optimizer: Optimizer
        switch callee.name {
        case "sgd":
            optimizer = .sgd(learningRate: try learningRate(0.01), momentum: try fraction("momentum", 0),
                             nesterov: try flag(args["nesterov"], "nesterov", default: false))
        case "rmsprop":
            optimizer = .rmsprop(learningRate: try learningRate(0.001), rho: try fraction("rho", 0.9),
                                 momentum: try fraction("momentum", 0), epsilon: try number(args["epsilon"], "epsilon", default: 1e-7, positive: true))
        case "adamw":
            optimizer = .adamw(learningRate: try learningRate(0.001), beta1: try fraction("beta1", 0.9), beta2: try fraction("beta2", 0.999),
                               epsilon: try number(args["epsilon"], "epsilon", default: 1e-7, positive: true),
                               weightDecay: try number(args["weight_decay"], "weight_decay", default: 0.004))
        default:
            optimizer = .adam(learningRate: try learningRate(0.001), beta1: try fraction("beta1", 0.9),
                              beta2: try fraction("beta2", 0.999), epsilon: try number(args["epsilon"], "epsilon", default: 1e-7, positive: true))
        }
        return (optimizer, schedule, clipNorm)
    }

    /// `exponential_decay(0.01, decay_steps: 1000, decay_rate: 0.96, staircase: false)` or `cosine_decay(0.01, decay_steps: 1000, alpha: 0)`.
    private func learningRateSchedule(_ expr: Expr) throws -> LearningRateSchedule {
        let (name, args) = try call(expr, allowed: ["exponential_decay", "cosine_decay"], what: "learning-rate schedule") { name in
            name == "exponential_decay" ? ["initial", "decay_steps", "decay_rate", "staircase"] : ["initial", "decay_steps", "alpha"]
        }
        guard args["initial"] != nil else { throw fail(.missingArgument("initial", name.name), at: name.range) }
        guard let stepsExpr = args["decay_steps"] else { throw fail(.missingArgument("decay_steps", name.name), at: name.range) }
        let initial = try number(args["initial"], "initial", default: 0.001, positive: true)
        let decaySteps = try positiveInt(stepsExpr, "decay_steps")
        if name.name == "exponential_decay" {
            guard args["decay_rate"] != nil else { throw fail(.missingArgument("decay_rate", name.name), at: name.range) }
            return .exponentialDecay(initial: initial, decaySteps: decaySteps, decayRate: try number(args["decay_rate"], "decay_rate", default: 1, positive: true),
                                     staircase: try flag(args["staircase"], "staircase", default: false))
        }
        let alpha = try number(args["alpha"], "alpha", default: 0)
        guard alpha <= 1 else { throw fail(.trainArgument("alpha", "a number in [0, 1]"), at: args["alpha"]?.range ?? name.range) }
        return .cosineDecay(initial: initial, decaySteps: decaySteps, alpha: alpha)
    }

    /// `[early_stopping(monitor: val_loss, patience: 3, min_delta: 0, restore_best: true)]`.
    private func callbackList(_ expr: Expr) throws -> EarlyStopping? {
        let items: [Expr]
        if case .list(let elements, _) = expr { items = elements } else { items = [expr] }
        var result: EarlyStopping?
        for item in items {
            let (callee, args) = try call(item, allowed: ["early_stopping"], what: "callback") { _ in ["monitor", "patience", "min_delta", "restore_best"] }
            guard result == nil else { throw fail(.trainArgument("callbacks", "at most one early_stopping"), at: callee.range) }
            var monitor = "val_loss"
            if let value = args["monitor"] {
                let names = ["loss"] + Self.metrics
                guard case .name(let id) = value, names.contains(id.name) || (id.name.hasPrefix("val_") && names.contains(String(id.name.dropFirst(4)))) else {
                    throw fail(.trainArgument("monitor", "a loss or metric name such as val_loss or accuracy"), at: value.range)
                }
                monitor = id.name
            }
            let patience = try args["patience"].map { try integer($0, "patience", expected: "a whole number") } ?? 0
            guard patience >= 0 else { throw fail(.trainArgument("patience", "a non-negative whole number"), at: args["patience"]?.range ?? callee.range) }
            result = EarlyStopping(monitor: monitor, patience: patience, minDelta: try number(args["min_delta"], "min_delta", default: 0),
                                   restoreBest: try flag(args["restore_best"], "restore_best", default: false))
        }
        return result
    }

    private func metricList(_ expr: Expr) throws -> [String] {
        let items: [Expr]
        if case .list(let elements, _) = expr { items = elements } else { items = [expr] }
        return try items.map { item in
            guard case .name(let id) = item else { throw fail(.trainArgument("metrics", "metric names like [accuracy]"), at: item.range) }
            guard Self.metrics.contains(id.name) else {
                throw fail(.unknownTrainFunction("metric", id.name, Self.metrics.joined(separator: ", ")), at: id.range,
                           notes: Suggestions.note(for: id.name, among: Self.metrics))
            }
            return id.name
        }
    }
}
