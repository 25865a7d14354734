import DLMSyntax
import Foundation
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func parse(_ text: String) -> (SourceUnit, [Diagnostic]) {
    let diagnostics = DiagnosticEngine()
    let unit = Parser.parse(SourceFile(path: "t.dlm", text: text), diagnostics: diagnostics)
    return (unit, diagnostics.diagnostics)
}

/// A compact rendering of expressions, to assert structure and precedence.
private func show(_ expr: Expr) -> String {
    switch expr {
    case .integer(let v, _): "\(v)"
    case .float(let v, _): "\(v)"
    case .string(let s, _): "\"\(s)\""
    case .bool(let b, _): "\(b)"
    case .name(let id): id.name
    case .call(let callee, let args, let piped, _):
        "\(piped ? "|>" : "")\(callee.name)(" + args.map { ($0.label.map { "\($0.name): " } ?? "") + show($0.value) }.joined(separator: ", ") + ")"
    case .binary(let op, let l, let r, _, _): "(\(show(l)) \(op.rawValue) \(show(r)))"
    case .negate(let e, _): "-\(show(e))"
    case .tuple(let es, _): "(" + es.map(show).joined(separator: ", ") + ",)"
    case .list(let es, _): "[" + es.map(show).joined(separator: ", ") + "]"
    }
}

private func expression(_ source: String) throws -> String {
    let (unit, diagnostics) = parse("model M(x: f32[B]) -> f32[B] {\n    return \(source)\n}\n")
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message.text))")
    guard case .return(let expr, _)? = unit.models.first?.body.last else { throw CocoaError(.featureUnsupported) }
    return show(expr)
}

@Suite struct GrammarCoverageTests {
    /// Every production of Grammar/dlm.ebnf appears in at least one of these programs.
    static let programs = [
        // file, declarations, doc comments, model with parameter list (trailing comma), tuple result with names
        """
        ## A model with everything.
        model Everything(x: f32[B, T, 4], ids: i32[B, T], flag: bool[B], s: f64[], z: i64[2 * B, (T + 1) / 2 - 1],) -> (out: f32[B, 4], f32[B]) {
            ## A parameter.
            param w: f32[4, 4] = uniform(low: -0.1, high: 0.1)
            (h, c) = scan(Cell, x, init: (zeros([B, 4]), zeros([B, 4])));
            y = -h @ w + 1.5e-3 * c / 2 - 0.5
            m = mean(y, axis: [1]) == sum(y, axis: 1) / 4
            p = y |> relu |> dense(4, activation: sigmoid, name: "head", use_bias: true)
            return (p, cast(flag, f32))
        }
        """,
        // layer with scalar parameters and defaults; plain result type
        """
        layer Cell(x: f32[B, I], h: f32[B, H], c: f32[B, H], scale: float = 1.0, label: string = "cell") -> (f32[B, H], f32[B, H]) {
            z = concat([h, x], axis: 1)
            return (tanh(dense(z, H)) * scale, c)
        }
        layer Plain(x: f32[B, 2]) -> f32[B, 2] { return x }
        """,
        // train block with every kind of setting value
        """
        train Everything {
            data = idx(images: "a.gz", labels: "b.gz") / 255
            validate = split(0.1)
            loss = sparse_categorical_crossentropy(from_logits: true)
            optimizer = adam(lr: 0.001, beta1: 0.9)
            epochs = 3;
            batch = 32
            metrics = [accuracy, f1]
            shuffle = false
        }
        """,
    ]

    @Test func programsUsingEveryProductionParseWithoutErrors() {
        let (unit, diagnostics) = parse(Self.programs.joined(separator: "\n"))
        #expect(diagnostics.isEmpty, "\(diagnostics.map { "\($0.range?.description ?? ""): \($0.message.text)" })")
        #expect(unit.models.count == 1 && unit.layers.count == 2 && unit.trains.count == 1)
        let model = unit.models[0]
        #expect(model.doc == ["A model with everything."])
        #expect(model.parameters.count == 5)
        #expect(model.result.isTuple && model.result.elements[0].name?.name == "out")
        guard case .param(let param) = model.body[0] else { Issue.record("first statement is not a param"); return }
        #expect(param.doc == ["A parameter."])
        guard case .assign(let targets, true, _, _) = model.body[1] else { Issue.record("no tuple assignment"); return }
        #expect(targets.map(\.name) == ["h", "c"])
        #expect(unit.trains[0].settings.map(\.key.name) == ["data", "validate", "loss", "optimizer", "epochs", "batch", "metrics", "shuffle"])
        #expect(unit.layers[0].parameters[3].defaultValue != nil)
    }

    @Test func everyExampleParses() throws {
        let directory = packageRoot.appendingPathComponent("examples")
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".dlm") {
            let (unit, diagnostics) = parse(try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8))
            #expect(diagnostics.isEmpty, "\(file)")
            #expect(!unit.declarations.isEmpty, "\(file)")
        }
    }

    @Test func precedenceAndAssociativity() throws {
        #expect(try expression("a + b * c") == "(a + (b * c))")
        #expect(try expression("a - b - c") == "((a - b) - c)")
        #expect(try expression("-a @ b") == "(-a @ b)")
        #expect(try expression("a * b @ c / d") == "(((a * b) @ c) / d)")
        #expect(try expression("a + b == c * d") == "((a + b) == (c * d))")
        #expect(try expression("x |> f(1) |> g") == "|>g(|>f(x, 1))")
        #expect(try expression("x + 1 |> relu") == "|>relu((x + 1))")
        #expect(try expression("f(a, b: [1, 2], c: (d, e))") == "f(a, b: [1, 2], c: (d, e,))")
        #expect(try expression("(a)") == "a")
        #expect(try expression("(a,)") == "(a,)")
        #expect(try expression("1_000 + 2.5e-1 + \"s\\\"q\"") == "((1000 + 0.25) + \"s\"q\")")
        #expect(try expression("- - a") == "--a")
    }

    @Test func aParenthesisOnALaterLineStartsANewStatement() {
        let (unit, diagnostics) = parse("model M(x: f32[B]) -> f32[B] {\n    y = x\n    (a, b) = (y, y)\n    return a\n}\n")
        #expect(diagnostics.isEmpty)
        #expect(unit.models.first?.body.count == 3)
    }

    @Test func comparisonsDoNotChain() {
        let (_, diagnostics) = parse("model M(x: f32[B]) -> f32[B] {\n    return a < b < c\n}\n")
        #expect(diagnostics.map(\.message.id) == ["chained_comparison"])
    }
}

@Suite struct LexerTests {
    private func tokens(_ text: String) -> ([Token], [Diagnostic]) {
        let diagnostics = DiagnosticEngine()
        var lexer = Lexer(file: SourceFile(path: "t.dlm", text: text), diagnostics: diagnostics)
        return (lexer.tokenize(), diagnostics.diagnostics)
    }

    @Test func everyPunctuationAndKeyword() {
        let spelled = Punctuation.allCases.map(\.rawValue).joined(separator: " ") + " " + Keyword.allCases.map(\.rawValue).joined(separator: " ")
        let (lexed, diagnostics) = tokens(spelled)
        #expect(diagnostics.isEmpty)
        let kinds = lexed.dropLast().map(\.kind)
        #expect(kinds == Punctuation.allCases.map { TokenKind.punctuation($0) } + Keyword.allCases.map { TokenKind.keyword($0) })
        #expect(lexed.last?.kind == .endOfFile)
    }

    @Test func numbersStringsAndComments() {
        let (lexed, diagnostics) = tokens("10_000 2.5 1e3 3.0E-2 \"a\\tb\" # comment\n## doc\nname")
        #expect(diagnostics.isEmpty)
        #expect(lexed.map(\.kind) == [.integer, .float, .float, .float, .string, .docComment, .identifier, .endOfFile])
        #expect(lexed[4].text == "a\tb")
        #expect(lexed[5].text == "doc")
        #expect(lexed[6].startsLine)
    }

    @Test func columnsCountCharactersNotBytes() {
        let file = SourceFile(path: "t.dlm", text: "# é ü\nx = ü")
        let (line, column) = file.lineAndColumn(of: Array("# é ü\nx = ".utf8).count)
        #expect(line == 2 && column == 5)
    }

    @Test func lexicalErrorsAreReportedOnce() {
        #expect(tokens("x $$$ y").1.map(\.message.id) == ["lex_unexpected_character"])
        #expect(tokens("\"open").1.map(\.message.id) == ["lex_unterminated_string"])
        #expect(tokens("\"\\q\"").1.map(\.message.id) == ["lex_invalid_escape"])
        #expect(tokens("3x").1.map(\.message.id) == ["lex_malformed_number"])
        let invalid = DiagnosticEngine()
        var lexer = Lexer(file: SourceFile(path: "t.dlm", bytes: [0x78, 0xFF, 0xFE, 0x79]), diagnostics: invalid)
        _ = lexer.tokenize()
        #expect(invalid.diagnostics.map(\.message.id) == ["lex_invalid_utf8"])
    }
}

@Suite struct DiagnosticRenderingTests {
    @Test func rendersLocationSourceLineCaretAndNotes() {
        let file = SourceFile(path: "m.dlm", text: "model M(x: f32[B]) -> f32[B] {\n    return dense(x)\n}\n")
        let range = SourceRange(file: file, start: 42, end: 47)
        let diagnostic = Diagnostic(.error, DiagnosticMessage(id: "demo", text: "something is wrong"), at: range,
                                    notes: [DiagnosticNote("try this instead")])
        #expect(DiagnosticRenderer().render([diagnostic]) == """
        m.dlm:2:12: error: something is wrong
              return dense(x)
                     ^~~~~
        note: try this instead
        1 error generated.

        """)
        #expect(DiagnosticRenderer(showsIdentifiers: true).render(diagnostic).hasPrefix("m.dlm:2:12: error: something is wrong [demo]"))
    }
}
