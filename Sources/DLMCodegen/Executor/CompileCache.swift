import Foundation

/// Machine code of compiled plans on disk, so a second run of the same model
/// at the same sizes skips LLVM's optimiser and code generator.
///
/// An entry is keyed by a 128-bit hash of everything that decides the code:
/// the plan's unoptimised LLVM IR (graph, sizes, memory layout, constants),
/// the pass pipeline, the target CPU and features, and the LLVM version.
/// Entries are written to a temporary file and renamed into place, so
/// concurrent writers never expose a partial file; each carries its key and
/// a checksum of the object, and an entry that does not check out is ignored
/// (and replaced by the next compile). Location: `$DLMC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/dlmc/jit`, else `~/.cache/dlmc/jit`; `DLMC_CACHE=off`
/// turns the cache off.
struct CompileCache: Sendable {
    let directory: URL

    /// The cache the environment asks for, or `nil` when it is turned off.
    static func fromEnvironment() -> CompileCache? {
        let environment = ProcessInfo.processInfo.environment
        if let setting = environment["DLMC_CACHE"]?.lowercased(), ["off", "0", "no", "false"].contains(setting) { return nil }
        if let explicit = environment["DLMC_CACHE_DIR"], !explicit.isEmpty {
            return CompileCache(directory: URL(fileURLWithPath: explicit))
        }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return CompileCache(directory: base.appendingPathComponent("dlmc/jit"))
    }

    /// The key of a plan: 32 hex digits.
    static func key(_ parts: [String]) -> String {
        var first = FNV1a(seed: 0xcbf2_9ce4_8422_2325), second = FNV1a(seed: 0x6c62_272e_07bb_0142)
        for part in parts {
            first.add(part)
            second.add(part)
            first.add("\u{0}")
            second.add("\u{1}")
        }
        return String(format: "%016llx%016llx", first.value, second.value)
    }

    private static let magic = Array("dlmc-jit-object-1\n".utf8)

    private func url(for key: String) -> URL { directory.appendingPathComponent("\(key).o") }

    /// The object stored under `key`, if present and intact.
    func load(_ key: String) -> [UInt8]? {
        guard let data = try? Data(contentsOf: url(for: key)) else { return nil }
        let bytes = [UInt8](data)
        let header = Self.magic.count + 32 + 16
        guard bytes.count > header, Array(bytes[..<Self.magic.count]) == Self.magic,
              String(decoding: bytes[Self.magic.count..<(Self.magic.count + 32)], as: UTF8.self) == key else { return nil }
        let object = Array(bytes[header...])
        var checksum = FNV1a(seed: 0x84222325cbf29ce4)
        checksum.add(object)
        guard String(decoding: bytes[(Self.magic.count + 32)..<header], as: UTF8.self) == String(format: "%016llx", checksum.value) else {
            return nil
        }
        return object
    }

    /// Stores an object under `key`; failures (a read-only home, a full disk) only cost the next run a compile.
    func store(_ key: String, object: [UInt8]) {
        var checksum = FNV1a(seed: 0x84222325cbf29ce4)
        checksum.add(object)
        let contents = Self.magic + Array(key.utf8) + Array(String(format: "%016llx", checksum.value).utf8) + object
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let temporary = directory.appendingPathComponent(".\(key).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString).tmp")
            try Data(contents).write(to: temporary)
            if rename(temporary.path, url(for: key).path) != 0 { try? FileManager.default.removeItem(at: temporary) }
        } catch {
            return
        }
    }
}

/// 64-bit FNV-1a: a fast, stable hash (two seeds give the cache a 128-bit key).
struct FNV1a {
    private(set) var value: UInt64

    init(seed: UInt64) { value = seed }

    mutating func add(_ text: String) { add(Array(text.utf8)) }

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }
}
