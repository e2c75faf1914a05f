import Foundation

/// Why a fleet run could not work at all (exit 2); a single client's trouble is never one of these.
public enum FleetError: LocalizedError, Equatable, Sendable {
    case noClients(sources: [String])
    case listUnreadable(path: String)
    case noRunToResume(place: String)
    case journalUnusable(place: String, reason: String)
    case journalStale(place: String, startedAt: String)
    case stillInLocation(slug: String, location: String)
    case notOnRoster(slug: String, location: String)

    /// The one line a person reads: what happened and what to do.
    public var errorDescription: String? {
        switch self {
        case .noClients(let sources):
            return "No company file found in \(sources.joined(separator: ", ")). Name folders holding company files, "
                + "patterns like 'clients/*.db', or a list file (--list)."
        case .listUnreadable(let path):
            return
                "The list of clients \(path) cannot be read. Write one company file a line, "
                + "optionally followed by a tab "
                + "and the client's name."
        case .noRunToResume(let place):
            return "There is no run to resume in \(place). Run the command again without --resume."
        case .journalStale(let place, let startedAt):
            return "The run's journal \(place) is of a run started \(startedAt), not within the last 24 hours: "
                + "doing every client afresh."
        case .stillInLocation(let slug, let location):
            return "The client folder \(slug) is still in \(location): a client is reported while its folder is "
                + "there. Move or remove the folder first, then forget the client."
        case .notOnRoster(let slug, let location):
            return "No client \(slug) is on the roster of \(location). Name a client's folder as the report shows it."
        case .journalUnusable(let place, let reason):
            return "The run's journal in \(place) cannot be kept (\(reason)); --resume needs it. Give --state FILE, "
                + "or check the location."
        }
    }

    /// The one line a person reads for any error: its description when it has one.
    public static func describe(_ error: any Error) -> String {
        (error as? LocalizedError)?.errorDescription ?? "\(error)"
    }
}
