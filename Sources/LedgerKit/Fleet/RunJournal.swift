import Foundation

/// What a fleet run has done so far, kept beside the clients' records (or in a
/// state file) after each client, so that a run that is killed can be resumed
/// (`--resume`) with the clients it had not done.
public struct RunJournal: Codable, Equatable, Sendable {
    /// Always `ledger-fleet-run`; anything else is not a journal of ours.
    public var format = "ledger-fleet-run"
    /// `verify`, `backup`, `check-backups` or `drill`.
    public var command: String
    /// The share of the run (`I/N`): a journal resumes only the same share.
    public var shard: String
    /// When the run started, UTC.
    public var startedAt: String
    /// Each client done: its slug and outcome.
    public var done: [String: ClientStatus.StepOutcome] = [:]
    /// Whether every client was done: a finished run has nothing to resume.
    public var finished = false

    enum CodingKeys: String, CodingKey {
        case format, command, shard
        case startedAt = "started_at"
        case done, finished
    }

    /// A new journal of `command` over `shard`, started at `startedAt`.
    public init(command: String, shard: FleetShard, startedAt: Date) {
        self.command = command
        self.shard = shard.description
        self.startedAt = Timestamp.string(from: startedAt)
    }

    /// How old a journal may be and still be resumed: a run stopped longer ago is done afresh.
    public static let resumeLimit: TimeInterval = 24 * 3_600

    /// The journal's object name in a location: one per command and shard, hidden from listings.
    public static func objectName(command: String, shard: FleetShard) -> String {
        ".ledger-fleet-\(command)-\(shard.index)-of-\(shard.count).json"
    }
}

/// Where a run's journal is kept, and its writes, one at a time.
public final class RunJournalKeeper: @unchecked Sendable {
    // `journal` is guarded by `lock`: clients finish on several threads.
    private let lock = NSLock()
    private var journal: RunJournal
    private let folder: String
    private let name: String
    /// The first failure to write the journal, if any.
    public private(set) var problem: String?

    /// A keeper for `journal` written as `name` in the location or folder `folder`.
    public init(_ journal: RunJournal, folder: String, name: String) {
        self.journal = journal
        self.folder = folder
        self.name = name
    }

    /// The keeper of the journal in `place`: a state file's path (`--state`), else the location
    /// root `root`, with the journal's name for the command and shard.
    public static func at(
        state: String?, root: String?, command: String, shard: FleetShard
    ) -> (folder: String, name: String)? {
        if let state {
            let url = URL(fileURLWithPath: state)
            return (url.deletingLastPathComponent().path, url.lastPathComponent)
        }
        guard let root else { return nil }
        return (root, RunJournal.objectName(command: command, shard: shard))
    }

    /// The unfinished journal in `folder`, for `--resume`.
    /// - Throws: `FleetError.noRunToResume` when there is none, or it is of another command or shard;
    ///   `FleetError.journalStale` when its run started more than `RunJournal.resumeLimit` before
    ///   `now`, at a time that cannot be read, or ahead of `now` (the run is then done afresh).
    public static func resumable(
        folder: String, name: String, command: String, shard: FleetShard, now: Date = Date()
    ) throws -> RunJournal {
        let data: Data?
        do {
            data = try FleetStorage.read(name, in: folder)
        } catch {
            throw FleetError.journalUnusable(place: folder, reason: FleetError.describe(error))
        }
        guard let data, data.count < 16 << 20, let journal = try? JSONDecoder().decode(RunJournal.self, from: data),
            journal.format == "ledger-fleet-run", journal.command == command, journal.shard == shard.description,
            !journal.finished
        else {
            throw FleetError.noRunToResume(place: folder + "/" + name)
        }
        guard let started = Timestamp.parse(journal.startedAt), started <= now + FleetVerify.clockTolerance,
            now.timeIntervalSince(started) <= RunJournal.resumeLimit
        else {
            throw FleetError.journalStale(place: folder + "/" + name, startedAt: journal.startedAt)
        }
        return journal
    }

    /// Keeps, of the clients the journal names done, only those of `clients` (this run's) whose own
    /// status record under `root` shows this command's step ended at or after the journal's run
    /// started, with the worse of the two outcomes; the rest are done again. A journal in a
    /// location is that location's word, and so is a record, but a journal alone no longer
    /// skips a client. Without `root` (a `--state` file of `fleet verify`), the journal's
    /// clients of this run are taken as they are.
    /// - Returns: how many clients the journal named done that are done again.
    @discardableResult
    public func confirm(_ clients: [FleetClient], root: String?, now: Date = Date()) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let current = Set(clients.map(\.slug))
        let named = journal.done.filter { current.contains($0.key) }
        var kept: [String: ClientStatus.StepOutcome] = [:]
        let started = Timestamp.parse(journal.startedAt) ?? .distantFuture
        for (slug, outcome) in named {
            guard let root else {
                kept[slug] = outcome
                continue
            }
            let location = FleetStorage.clientLocation(root, slug: slug)
            guard FleetStorage.refusal(ofClient: slug, in: root) == nil,
                let data = try? FleetStorage.read(ClientStatus.objectName, in: location),
                let status = ClientStatus.decoded(data),
                let step = Self.step(of: journal.command, in: status),
                let at = Timestamp.parse(step.at), at >= started, at <= now + FleetVerify.clockTolerance
            else { continue }
            kept[slug] = StatusUpdates.worse(outcome, step.outcome)
        }
        let dropped = journal.done.count - kept.count
        journal.done = kept
        return dropped
    }

    /// When `command`'s step last ended in `status`, and how.
    private static func step(of command: String, in status: ClientStatus) -> (
        at: String, outcome: ClientStatus.StepOutcome
    )? {
        switch command {
        case "verify": return status.verify.map { ($0.at, $0.outcome) }
        case "backup": return status.backup.map { ($0.at, $0.outcome) }
        case "check-backups": return status.check.map { ($0.at, $0.outcome) }
        case "drill": return status.drill.map { ($0.at, $0.outcome) }
        default: return nil
        }
    }

    /// The slugs done before.
    public var done: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return Set(journal.done.keys)
    }

    /// The outcome of each client done before, by slug.
    public var outcomes: [String: ClientStatus.StepOutcome] {
        lock.lock()
        defer { lock.unlock() }
        return journal.done
    }

    /// Writes the journal as it starts: a failure here stops the run before any work.
    public func start() throws {
        lock.lock()
        defer { lock.unlock() }
        do {
            try FleetStorage.write(try JSONEncoder().encode(journal), as: name, in: folder)
        } catch {
            throw FleetError.journalUnusable(place: folder, reason: FleetError.describe(error))
        }
    }

    /// Records one client done, and, when `finished`, the run's end.
    public func record(_ slug: String?, _ outcome: ClientStatus.StepOutcome = .clean, finished: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        if let slug { journal.done[slug] = outcome }
        journal.finished = finished
        do {
            try FleetStorage.write(try JSONEncoder().encode(journal), as: name, in: folder)
        } catch {
            problem = problem ?? FleetError.describe(error)
        }
    }
}
