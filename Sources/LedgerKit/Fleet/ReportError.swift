import Foundation

/// Why the fleet report or its server could not do its work: each says what happened
/// and what to do.
public enum ReportError: LocalizedError, Equatable, Sendable {
    case locationMissing(String)
    case locationUnreadable(String, String)
    case noClientFolders(String)
    case cannotListen(Int, String)
    case cannotWrite(String, String)

    /// The one line a person reads: what happened and what to do.
    public var errorDescription: String? {
        switch self {
        case .locationMissing(let location):
            return "\(location) is not a folder of client status records. Name the location fleet backup writes to."
        case .locationUnreadable(let location, let why):
            return "Cannot read \(location): \(why). Check that it is reachable and that you may read it."
        case .noClientFolders(let location):
            return "\(location) holds no client folder: nothing to report. Check it is the location fleet backup "
                + "writes to, and that it is mounted."
        case .cannotListen(let port, let why):
            return "Cannot listen on 127.0.0.1:\(port): \(why). Choose another port with --port, or 0 for any free one."
        case .cannotWrite(let path, let why):
            return "Cannot write \(path): \(why). Check the folder exists and that you may write there."
        }
    }
}
