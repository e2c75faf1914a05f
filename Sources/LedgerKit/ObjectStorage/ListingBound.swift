import Crypto
import Foundation

/// How far a listing of object storage is followed before it is taken for a
/// server whose listing never ends (one that always says "truncated"): a
/// repeated or missing continuation token ends it at once, and so do more
/// objects than `maxObjects`, more pages than a listing of that many could
/// take, or more bytes of listing than that many objects could need.
public struct ListingBound: Sendable {
    /// `--max-objects` when not given.
    public static let defaultMaxObjects = 1_000_000

    /// The most objects a listing may hold in this process: the command line
    /// sets it once (`--max-objects`) before any work, as it registers
    /// `TransferProgress`'s sink; `defaultMaxObjects` until then.
    public static var maxObjects: Int { Setting.shared.value }

    /// Sets `maxObjects` for the rest of the process (at least 1).
    public static func set(maxObjects: Int) {
        Setting.shared.set(max(1, maxObjects))
    }

    /// Why a listing was stopped.
    public enum Stop: Equatable, Sendable {
        /// The server gave a continuation token it had given before: the listing would loop.
        case repeatedToken
        /// The server said there is more but gave no token to ask for it.
        case missingToken
        /// More objects than this, the most `--max-objects` allows.
        case tooManyObjects(Int)
        /// More pages than this, more than the objects allowed would need.
        case tooManyPages(Int)
        /// More bytes of listing than this.
        case tooManyBytes(Int64)

        var reason: String {
            switch self {
            case .repeatedToken: return "it gave a continuation token it had given before"
            case .missingToken: return "it said there is more but gave no continuation token"
            case .tooManyObjects(let most): return "more than \(most) objects, the most --max-objects allows"
            case .tooManyPages(let most):
                return "more than \(most) pages, more than \(Self.objectsPerPage) objects a page would need"
            case .tooManyBytes(let most): return "more than \(most) bytes of listing"
            }
        }

        /// A page holds up to 1,000 entries; a listing whose pages average fewer than this is not believed.
        static let objectsPerPage = 100
    }

    let maxObjects: Int
    private var pages = 0
    private var bytes: Int64 = 0
    /// The SHA-256 of each token given: a token may be as long as a page.
    private var tokens: Set<Data> = []

    init(maxObjects: Int) {
        self.maxObjects = max(1, maxObjects)
    }

    /// Counts a page of `bytes`, after which the listing holds `objects`.
    /// - Throws: `S3Failure.endlessListing` when a bound is met.
    mutating func count(_ page: ListingParser, bytes more: Int, objects: Int) throws {
        pages += 1
        bytes += Int64(more)
        let stop: Stop
        // Saturating: --max-objects may be as large as an Int goes.
        let mostPages = maxObjects / Stop.objectsPerPage + 10
        let (perObject, over) = Int64(maxObjects).multipliedReportingOverflow(by: 2048)
        let mostBytes =
            over || perObject > Int64.max - Int64(S3Client.answerBytes)
            ? Int64.max : perObject + Int64(S3Client.answerBytes)
        if objects > maxObjects {
            stop = .tooManyObjects(maxObjects)
        } else if bytes > mostBytes {
            stop = .tooManyBytes(mostBytes)
        } else if !page.truncated {
            return
        } else if (page.nextToken ?? "").isEmpty {
            stop = .missingToken
        } else if !tokens.insert(Data(SHA256.hash(data: Data((page.nextToken ?? "").utf8)))).inserted {
            stop = .repeatedToken
        } else if pages >= mostPages {
            stop = .tooManyPages(mostPages)
        } else {
            return
        }
        throw S3Failure.endlessListing(stop, objects: objects, pages: pages)
    }

    private final class Setting: @unchecked Sendable {
        static let shared = Setting()
        // Guarded by `lock`.
        private var most = ListingBound.defaultMaxObjects
        private let lock = NSLock()

        func set(_ new: Int) {
            lock.lock()
            defer { lock.unlock() }
            most = new
        }

        var value: Int {
            lock.lock()
            defer { lock.unlock() }
            return most
        }
    }
}
