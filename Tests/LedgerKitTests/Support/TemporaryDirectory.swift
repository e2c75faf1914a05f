import Foundation

@testable import LedgerKit

/// A fresh folder for one test, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/ledger-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` as the file `name` in this folder; its path.
    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }

    /// A file `name` of `size` bytes that compress to nothing and in which no
    /// two offsets repeat soon (a stand-in for a big snapshot).
    func randomFile(_ name: String, size: Int) throws -> String {
        let path = file(name)
        var random = SplitMix64(seed: UInt64(size))
        var data = Data(count: size)
        data.withUnsafeMutableBytes { bytes in
            for offset in stride(from: 0, to: size - 7, by: 8) {
                bytes.storeBytes(of: random.next(), toByteOffset: offset, as: UInt64.self)
            }
        }
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }
}
