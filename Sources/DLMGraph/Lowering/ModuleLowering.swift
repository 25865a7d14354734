import DLMSyntax

/// A model lowered to a graph, with what `dlmc check` shows about it.
public struct LoweredModel: Sendable {
    /// The model's name.
    public let name: String
    /// Its doc comment lines.
    public let doc: [String]
    /// The checked graph.
    public let graph: Graph
    /// Keras-style rows: one per top-level layer or parameter.
    public let summary: [LayerSummary]
    /// Weight penalties requested by layers (`kernel_regularizer: l2(0.01)`), by parameter name.
    public let regularizers: [String: Regularizer]
    /// The model's `train` block, checked, if it has one.
    public let training: TrainingConfig?
    /// The batch normalisations in the model's graph, for training.
    public let batchNorms: [BatchNormSite]
}

/// Where a batch normalisation of a model's graph reads its running
/// statistics. Inference normalises with them; a train step substitutes the
/// batch's mean and (biased) variance over every axis but `axis`, and
/// updates the running statistics by `momentum` (Keras's rule).
public struct BatchNormSite: Sendable, Hashable {
    /// The normalised input.
    public let input: ValueID
    /// The feature axis of `input`.
    public let axis: Int
    /// moving = moving·momentum + batch·(1 - momentum).
    public let momentum: Double
    /// The running mean as the normalisation reads it (reshaped to broadcast along `axis`).
    public let mean: ValueID
    /// The running variance as the normalisation reads it.
    public let variance: ValueID
    /// The parameters holding the running statistics.
    public let meanParameter: String
    public let varianceParameter: String
}

/// Everything lowered from one source file.
public struct LoweredModule: Sendable {
    /// The models that lowered without errors, in source order.
    public var models: [LoweredModel]
}

/// Lowers parsed `.dlm` files to graph IR, inferring and checking shapes.
public enum Lowering {
    /// Lowers every model of `unit`, reporting problems to `diagnostics`.
    /// Models with errors are left out of the result.
    public static func lower(_ unit: SourceUnit, diagnostics: DiagnosticEngine) -> LoweredModule {
        let layers = collectDeclarations(unit, diagnostics: diagnostics)
        let lowerer = Lowerer(unit: unit, diagnostics: diagnostics, layers: layers)
        var trainings: [String: TrainingConfig] = [:]
        let modelNames = Set(unit.models.map(\.name.name))
        var trainRanges: [String: SourceRange] = [:]
        for train in unit.trains {
            let name = train.model.name
            guard modelNames.contains(name) else {
                let isLayer = layers[name] != nil
                diagnostics.error(isLayer ? .trainOnLayer(name) : .unknownModel(name), at: train.model.range,
                                  notes: Suggestions.note(for: name, among: Array(modelNames)))
                continue
            }
            if let previous = trainRanges[name] {
                diagnostics.error(.duplicateTrain(name), at: train.model.range,
                                  notes: [DiagnosticNote("previous train block for '\(name)' is here", at: previous)])
                continue
            }
            trainRanges[name] = train.model.range
            if let config = TrainingChecker(diagnostics: diagnostics).check(train) {
                trainings[name] = config
            }
        }
        var models: [LoweredModel] = []
        for declaration in unit.models {
            let before = diagnostics.errorCount
            guard let lowered = lowerer.lowerModel(declaration), diagnostics.errorCount == before else { continue }
            models.append(LoweredModel(name: declaration.name.name, doc: declaration.doc, graph: lowered.graph,
                                       summary: lowered.summary, regularizers: lowered.regularizers,
                                       training: trainings[declaration.name.name], batchNorms: lowered.batchNorms))
        }
        lowerer.checkUncalledLayers()
        return LoweredModule(models: models)
    }

    /// Indexes user layers, reporting duplicate names and names that shadow built-ins.
    private static func collectDeclarations(_ unit: SourceUnit, diagnostics: DiagnosticEngine) -> [String: FunctionDecl] {
        var seen: [String: SourceRange] = [:]
        var layers: [String: FunctionDecl] = [:]
        for declaration in unit.declarations {
            let decl: FunctionDecl
            switch declaration {
            case .model(let m): decl = m
            case .layer(let l): decl = l
            case .train: continue
            }
            let name = decl.name.name
            if let previous = seen[name] {
                diagnostics.error(.duplicateDeclaration(name), at: decl.name.range,
                                  notes: [DiagnosticNote("'\(name)' first declared here", at: previous)])
                continue
            }
            seen[name] = decl.name.range
            if decl.kind == .layer {
                if Builtins.table[name] != nil {
                    diagnostics.error(.shadowsBuiltin(name), at: decl.name.range)
                    continue
                }
                layers[name] = decl
            }
        }
        return layers
    }
}
