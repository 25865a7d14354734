import DLMRuntime
import DLMSyntax

/// Fits labels read from a file to what the loss needs (`TargetEncoding`).
enum TargetFitting {
    /// The targets as `[examples] + per-example shape`, encoded for the loss.
    static func fit(_ raw: RawData, examples: Int, encoding: TargetEncoding, range: SourceRange?) throws -> Tensor {
        let tensor = raw.targets
        let origin = raw.targetOrigin
        guard let rows = tensor.shape.first else {
            throw TrainingError("\(origin) holds a single value, not one label per example", at: range)
        }
        guard rows == examples else {
            throw TrainingError("\(raw.featureOrigin) has \(examples) example\(examples == 1 ? "" : "s") but \(origin) has \(rows) label\(rows == 1 ? "" : "s")", at: range)
        }
        let perExample = max(1, tensor.count / max(1, rows))
        func row(_ index: Int) -> Int { index / perExample + 1 }
        if tensor.dtype.isFloatingPoint, let bad = ElementValues.first(in: tensor, where: { !$0.isFinite }) {
            throw TrainingError("row \(row(bad.index)) of \(origin) holds \(ShapeFit.number(bad.value)); training data must be finite", at: range)
        }
        let found = Array(tensor.shape.dropFirst())
        func mismatch() -> TrainingError {
            TrainingError("\(origin) has \(ShapeFit.describeExample(found)) but the loss needs \(encoding.requirement)", at: range)
        }
        /// Checks that every label is a class id in 0..<classes.
        func checkClassIDs(_ classes: Int) throws {
            if let bad = ElementValues.first(in: tensor, where: { $0 != $0.rounded() }) {
                throw TrainingError("label \(ShapeFit.number(bad.value)) in row \(row(bad.index)) of \(origin) is not a whole number; "
                                    + "the loss needs class ids 0..<\(classes)", at: range)
            }
            if let bad = ElementValues.first(in: tensor, where: { $0 < 0 || $0 >= Double(classes) }) {
                throw TrainingError("label \(ShapeFit.number(bad.value)) in row \(row(bad.index)) of \(origin) is outside 0..<\(classes) "
                                    + "for a \(classes)-class output", at: range)
            }
        }
        switch encoding {
        case .classIndices(let classes, let shape):
            guard let example = ShapeFit.fit(found, to: shape.map { $0 < 0 ? nil : $0 }) else { throw mismatch() }
            try checkClassIDs(classes)
            return try tensor.converted(to: .i32).reshaped([rows] + example)
        case .oneHot(let classes):
            if found.reduce(1, *) == 1 && classes != 1 {
                try checkClassIDs(classes)
                return try oneHot(tensor, rows: rows, classes: classes)
            }
            guard let example = ShapeFit.fit(found, to: [classes]) else { throw mismatch() }
            return try ElementValues.floating(tensor, as: .f32, scale: 1, shape: [rows] + example)
        case .values(let shape):
            guard let example = ShapeFit.fit(found, to: shape.map { $0 < 0 ? nil : $0 }) else { throw mismatch() }
            return try ElementValues.floating(tensor, as: .f32, scale: 1, shape: [rows] + example)
        }
    }

    /// f32 `[rows, classes]` with a 1 at each (already checked) class id.
    private static func oneHot(_ ids: Tensor, rows: Int, classes: Int) throws -> Tensor {
        var result = try Tensor(zeros: .f32, shape: [rows, classes])
        result.withUnsafeMutableBytes { raw in
            let out = raw.bindMemory(to: Float.self)
            ElementValues.forEach(ids) { i, id in out[i * classes + Int(id)] = 1; return true }
        }
        return result
    }
}
