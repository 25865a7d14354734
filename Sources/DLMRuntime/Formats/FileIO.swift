import Foundation

/// Reading whole files with size limits, and writing them atomically.
public enum FileIO {
    /// Reads a file, refusing directories and files larger than `limit` bytes.
    public static func read(_ path: String, limit: Int = 4 << 30) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw FormatError(path, "is a directory") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FormatError(path, "cannot be opened for reading") }
        defer { try? handle.close() }
        do {
            let data = try handle.read(upToCount: limit + 1) ?? Data()
            guard data.count <= limit else { throw FormatError(path, "is larger than \(limit >> 20) MB") }
            return [UInt8](data)
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError(path, "cannot be read: \(error.localizedDescription)")
        }
    }

    /// Writes bytes to a temporary file in the destination's directory, flushes
    /// it to the disk, then renames it into place: readers see the old file
    /// or the new one, never half of one.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            try Data(bytes).write(to: temporary, options: [.withoutOverwriting])
            // The data reaches the disk before the rename makes it the file: a crash leaves the old file or the new one.
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            if rename(temporary.path, url.path) != 0 {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw FormatError(path, "cannot be replaced: \(reason)")
            }
        } catch let error as FormatError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw FormatError(path, "cannot be written: \(error.localizedDescription)")
        }
    }
}
