import Foundation
import GRDB

/// How far a verification has come.
public struct VerifyProgress: Sendable {
    /// "Checking the file's structure", "Checking the books".
    public let phase: String
    /// 0…1 of the logical checks done.
    public let fraction: Double
}
