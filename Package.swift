// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// The LLVM whose C headers Debian's llvm-dev links at /usr/include/llvm-c
/// (`../lib/llvm-14/include/llvm-c`): its major version names the library to
/// link, so a newer llvm-dev is a rebuild, not an edit.
let llvmMajorVersion: String = {
    let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/usr/include/llvm-c")) ?? ""
    let component = link.split(separator: "/").first { $0.hasPrefix("llvm-") && Int($0.dropFirst(5)) != nil }
    return component.map { String($0.dropFirst(5)) } ?? "14"
}()

let package = Package(
    name: "dlmc",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dlmc", targets: ["dlmc"]),
        .library(name: "DLMSyntax", targets: ["DLMSyntax"]),
        .library(name: "DLMGraph", targets: ["DLMGraph"]),
        .library(name: "DLMRuntime", targets: ["DLMRuntime"]),
        .library(name: "DLMPasses", targets: ["DLMPasses"]),
        .library(name: "DLMCodegen", targets: ["DLMCodegen"]),
        .library(name: "DLMTraining", targets: ["DLMTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Tokens, lexer, parser, AST, source files and diagnostics.
        .target(name: "DLMSyntax"),
        // Graph IR, op registry, verifier, printer/parser, lowering from the AST.
        .target(name: "DLMGraph", dependencies: ["DLMSyntax"]),
        // Pass manager and graph passes: simplification, folding, fusion, memory planning.
        .target(name: "DLMPasses", dependencies: ["DLMGraph", "DLMRuntime"]),
        // CBLAS from Debian's libopenblas-dev.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        // Tensors, data and weight formats, the interpreter.
        .target(name: "DLMRuntime", dependencies: ["DLMGraph", "COpenBLAS"]),
        // LLVM's C API from Debian's llvm-dev.
        .systemLibrary(name: "CLLVM", path: "Sources/CLLVM"),
        // The CPU's spin-wait hint for the JIT's worker threads.
        .target(name: "CSpinWait"),
        // LLVM code generation for plans, the ORC JIT and the JIT-backed executor.
        .target(
            name: "DLMCodegen",
            dependencies: ["DLMGraph", "DLMRuntime", "DLMPasses", "CLLVM", "CSpinWait"],
            linkerSettings: [
                .unsafeFlags(["-L/usr/lib/llvm-\(llvmMajorVersion)/lib"]),
                .linkedLibrary("LLVM-\(llvmMajorVersion)"),
            ]
        ),
        // Training: data pipeline, the training loop, progress, metrics, checkpoints.
        .target(name: "DLMTraining", dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime", "DLMPasses", "DLMCodegen"]),
        // The command line tool.
        .executableTarget(
            name: "dlmc",
            dependencies: [
                "DLMSyntax", "DLMGraph", "DLMRuntime", "DLMPasses", "DLMCodegen", "DLMTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Front-end throughput benchmark: parse + lower + shape inference on generated models.
        .executableTarget(
            name: "frontend-bench",
            dependencies: ["DLMSyntax", "DLMGraph"],
            path: "benchmarks/FrontendBench"
        ),
        // Interpreter latency on the reference models.
        .executableTarget(
            name: "runtime-bench",
            dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime", "DLMPasses", "DLMCodegen", "DLMTraining"],
            path: "benchmarks/RuntimeBench"
        ),
        // Test helpers shared by test targets: the seeded random program generator.
        .target(name: "DLMTestSupport", dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime"], path: "Tests/DLMTestSupport"),
        .testTarget(name: "DLMSyntaxTests", dependencies: ["DLMSyntax"]),
        .testTarget(name: "DLMGraphTests", dependencies: ["DLMSyntax", "DLMGraph"], exclude: ["Golden", "Diagnostics"]),
        .testTarget(name: "DLMRuntimeTests", dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime", "DLMPasses", "DLMTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DLMPassesTests", dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime", "DLMPasses", "DLMTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "DLMCodegenTests", dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime", "DLMPasses", "DLMCodegen", "DLMTestSupport"]),
        .testTarget(name: "DLMTrainingTests", dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime", "DLMPasses", "DLMCodegen", "DLMTraining", "DLMTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DLMCTests", dependencies: ["DLMSyntax", "DLMGraph", "DLMRuntime", "dlmc"]),
    ],
    swiftLanguageModes: [.v6]
)
