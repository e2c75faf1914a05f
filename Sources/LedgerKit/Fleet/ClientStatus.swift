import Foundation

/// What one client's company file last showed, kept as `ledger-status.json`
/// beside that client's snapshots in the backup location, so that any machine
/// sharing the location can build the fleet report (docs/fleet.md).
///
/// A record is read back from someone else's disk: every field is optional
/// and a record that does not decode is reported as unreadable, never trusted.
public struct ClientStatus: Codable, Equatable, Sendable {
    /// Always `ledger-client-status`; anything else is not ours.
    public var format: String = ClientStatus.formatName
    /// The layout of this record; readers skip records of a later version.
    public var version: Int = ClientStatus.currentVersion
    /// The client's name as the firm gave it (list file), else the file's stem.
    public var client: String
    /// The client's folder or prefix in the location: made safe and unique.
    public var slug: String
    /// The company file's path on the machine that last wrote this record.
    public var file: String?
    /// The machine that last wrote this record.
    public var host: String?
    /// When this record was last written, UTC, ISO 8601 (`2026-12-04T21:00:00Z`).
    public var updatedAt: String
    /// The last `ledger verify` of the file; nil when none was recorded.
    public var verify: VerifyStep?
    /// The last `ledger backup` of the file; nil when none was recorded.
    public var backup: BackupStep?
    /// The last restore drill; nil when none was recorded.
    public var drill: DrillStep?
    /// The last `fleet check-backups` of the client's snapshots; nil when none was recorded.
    public var check: CheckStep?
    /// The file's size when a step last looked at it.
    public var size: FileSize?
    /// One entry a night, newest last, at most `historyLimit` entries.
    public var history: [Night]?
    /// True once the record is kept where snapshots are encrypted: it then
    /// holds no words of the books (see `seal`), and every later writer keeps it so.
    public var sealed: Bool?
    /// The HMAC of the rest of the record by the manifest key of the machine
    /// that wrote it (`signed(by:)`): a report on that machine (or one that
    /// shares its key) believes only the records it finds so signed.
    public var hmac: String?

    /// The value of `format` in every record of ours.
    public static let formatName = "ledger-client-status"
    /// The record layout this version writes, and the latest it reads.
    public static let currentVersion = 1
    /// The record's object name inside the client's folder or prefix.
    public static let objectName = "ledger-status.json"
    /// Nights kept in `history`: enough for the report's 30-day strip and chart.
    public static let historyLimit = 60
    /// A record larger than this is refused unread (a hostile location).
    public static let maximumBytes = 256 * 1024

    /// A record with no steps yet.
    public init(client: String, slug: String, updatedAt: String) {
        self.client = client
        self.slug = slug
        self.updatedAt = updatedAt
    }

    /// The last `ledger verify` of the file.
    public struct VerifyStep: Codable, Equatable, Sendable {
        /// When verify ran, UTC, ISO 8601.
        public var at: String
        /// `clean`, `findings`, `damaged` (the file could not be read whole) or `failed` (verify could not run).
        public var outcome: StepOutcome
        /// Findings by severity (`error`, `warning`).
        public var bySeverity: [String: Int] = [:]
        /// Findings by code (docs/findings.md).
        public var byCode: [String: Int] = [:]
        /// The first findings, for the report's details (at most 50).
        public var findings: [FindingLine] = []
        /// Why the step failed, one line, when it did.
        public var problem: String?
        /// True for a quick verify (`quick_check`: no index checked against its
        /// table), such as a backup's of its copy; absent for a full one.
        public var quick: Bool?

        enum CodingKeys: String, CodingKey {
            case at, outcome
            case bySeverity = "by_severity"
            case byCode = "by_code"
            case findings, problem, quick
        }

        /// A verify step with no findings yet.
        public init(at: String, outcome: StepOutcome) {
            self.at = at
            self.outcome = outcome
        }

        /// Counts and findings are optional in a stored record: a record without them has none.
        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            at = try container.decode(String.self, forKey: .at)
            outcome = try container.decode(StepOutcome.self, forKey: .outcome)
            bySeverity = try container.decodeIfPresent([String: Int].self, forKey: .bySeverity) ?? [:]
            byCode = try container.decodeIfPresent([String: Int].self, forKey: .byCode) ?? [:]
            findings = try container.decodeIfPresent([FindingLine].self, forKey: .findings) ?? []
            problem = try container.decodeIfPresent(String.self, forKey: .problem)
            quick = try? container.decodeIfPresent(Bool.self, forKey: .quick)
        }
    }

    /// One finding as the report shows it.
    public struct FindingLine: Codable, Equatable, Sendable {
        /// The finding's code (docs/findings.md).
        public var code: String
        /// `error` or `warning`.
        public var severity: String
        /// What the finding says, in plain words.
        public var message: String

        /// A finding line from its three parts.
        public init(code: String, severity: String, message: String) {
            self.code = code
            self.severity = severity
            self.message = message
        }
    }

    /// The last `ledger backup` of the file, and the last one that was good.
    public struct BackupStep: Codable, Equatable, Sendable {
        /// When the backup ran, UTC, ISO 8601.
        public var at: String
        /// `clean` (a snapshot whose verify was clean), `findings`, or `failed` (no snapshot written).
        public var outcome: StepOutcome
        /// The snapshot written, when one was.
        public var snapshot: String?
        /// Its size in the location, in bytes.
        public var bytes: Int64?
        /// The newest snapshot whose verify was clean: when it was taken, its name and size.
        public var lastGoodAt: String?
        /// The name of the newest clean snapshot.
        public var lastGoodSnapshot: String?
        /// The size of the newest clean snapshot in the location, in bytes.
        public var lastGoodBytes: Int64?
        /// Why the step failed, one line, when it did.
        public var problem: String?

        enum CodingKeys: String, CodingKey {
            case at, outcome, snapshot, bytes
            case lastGoodAt = "last_good_at"
            case lastGoodSnapshot = "last_good_snapshot"
            case lastGoodBytes = "last_good_bytes"
            case problem
        }

        /// A backup step with no snapshot recorded yet.
        public init(at: String, outcome: StepOutcome) {
            self.at = at
            self.outcome = outcome
        }
    }

    /// The last restore drill: the newest snapshot restored into scratch, verified in full and
    /// compared with what its manifest recorded.
    public struct DrillStep: Codable, Equatable, Sendable {
        /// When the drill ran, UTC, ISO 8601.
        public var at: String
        /// `clean` when the restored copy verified clean and matched its manifest, else `failed`.
        public var outcome: StepOutcome
        /// The snapshot the drill restored.
        public var snapshot: String?
        /// When a drill last passed: "last proven restorable".
        public var lastProvenAt: String?
        /// The snapshot the last passing drill restored.
        public var lastProvenSnapshot: String?
        /// Why the drill failed, one line, when it did.
        public var problem: String?

        enum CodingKeys: String, CodingKey {
            case at, outcome, snapshot
            case lastProvenAt = "last_proven_at"
            case lastProvenSnapshot = "last_proven_snapshot"
            case problem
        }

        /// A drill step with no snapshot recorded yet.
        public init(at: String, outcome: StepOutcome) {
            self.at = at
            self.outcome = outcome
        }
    }

    /// The last `fleet check-backups`: every snapshot of the client read back. A failed
    /// check stands until a later check passes, whatever backups came between: the
    /// snapshots it found damaged are still in the location.
    public struct CheckStep: Codable, Equatable, Sendable {
        /// When the check ran, UTC, ISO 8601.
        public var at: String
        /// `clean` when every snapshot was whole and a recent good copy was found, else `failed`.
        public var outcome: StepOutcome
        /// What the check found wrong, one line each (at most `problemsKept`).
        public var problems: [String] = []

        /// Problems kept in a record.
        public static let problemsKept = 20

        /// A check step with no problems yet.
        public init(at: String, outcome: StepOutcome) {
            self.at = at
            self.outcome = outcome
        }

        /// Problems are optional in a stored record: a record without them has none.
        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            at = try container.decode(String.self, forKey: .at)
            outcome = try container.decode(StepOutcome.self, forKey: .outcome)
            problems = try container.decodeIfPresent([String].self, forKey: .problems) ?? []
        }

        enum CodingKeys: String, CodingKey {
            case at, outcome, problems
        }
    }

    /// The company file's size when a step last looked at it.
    public struct FileSize: Codable, Equatable, Sendable {
        /// When the size was taken, UTC, ISO 8601.
        public var at: String
        /// The file's size in bytes.
        public var bytes: Int64
        /// The file's SQLite page size in bytes.
        public var pageSize: Int
        /// Pages the file holds but no longer uses: room a `VACUUM` would give back.
        public var freePages: Int

        enum CodingKeys: String, CodingKey {
            case at, bytes
            case pageSize = "page_size"
            case freePages = "free_pages"
        }

        /// A size reading from its four parts.
        public init(at: String, bytes: Int64, pageSize: Int, freePages: Int) {
            self.at = at
            self.bytes = bytes
            self.pageSize = pageSize
            self.freePages = freePages
        }
    }

    /// One night of the 30-day strip: the worst outcome of that local day's steps.
    public struct Night: Codable, Equatable, Sendable {
        /// The local calendar day, `YYYY-MM-DD`.
        public var day: String
        /// The worst outcome of that day's steps.
        public var outcome: StepOutcome
        /// The company file's size that day, in bytes, when known.
        public var fileBytes: Int64?
        /// The size of that day's snapshot, in bytes, when known.
        public var snapshotBytes: Int64?

        enum CodingKeys: String, CodingKey {
            case day, outcome
            case fileBytes = "file_bytes"
            case snapshotBytes = "snapshot_bytes"
        }

        /// One night's entry; sizes are optional.
        public init(day: String, outcome: StepOutcome, fileBytes: Int64? = nil, snapshotBytes: Int64? = nil) {
            self.day = day
            self.outcome = outcome
            self.fileBytes = fileBytes
            self.snapshotBytes = snapshotBytes
        }
    }

    /// How a step ended. A value this version does not know decodes as `unknown`, which
    /// the report ranks as a failure: nothing is green that was not checked.
    public enum StepOutcome: String, Codable, Equatable, Sendable, CaseIterable {
        case clean, findings, damaged, failed, unknown

        /// Reads any text: a value this version does not know becomes `unknown`.
        public init(from decoder: Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            self = StepOutcome(rawValue: text) ?? .unknown
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, version, client, slug, file, host
        case updatedAt = "updated_at"
        case verify, backup, drill, check, size, history, sealed, hmac
    }

    /// What a sealed record says in place of a problem whose words it cannot
    /// keep: they are printed only on the machine that ran the step (`host`).
    public static let seeItsOutput = "see the output on the machine that ran it"
    /// A verify's problem when SQLite cannot read the file whole: no words of the books.
    static let unreadableWhole = "SQLite cannot read the whole file: run ledger rebuild"

    /// Makes the record fit a location whose snapshots are encrypted: it then
    /// holds no words of the books. Each finding's message, which quotes names
    /// and amounts, becomes its code's title in the catalog (docs/findings.md);
    /// each step's problem, which may quote a company's name (a drill of
    /// another company's books), a path or an error's words, becomes a fixed
    /// phrase (`seeItsOutput`, or one that says what kind of failure it was):
    /// the full words are printed only where the step ran. Sealing a sealed
    /// record changes nothing.
    public mutating func seal() {
        sealed = true
        if var verify {
            verify.findings = verify.findings.map { line in
                ClientStatus.FindingLine(
                    code: line.code, severity: line.severity,
                    message: FindingCode(rawValue: line.code)?.title ?? "a finding this version does not know")
            }
            verify.problem = verify.problem.map { $0 == Self.unreadableWhole ? $0 : Self.seeItsOutput }
            self.verify = verify
        }
        if backup?.problem != nil { backup?.problem = Self.seeItsOutput }
        if let problem = drill?.problem { drill?.problem = RestoreDrill.sealed(problem) }
        if let problems = check?.problems { check?.problems = FleetCheck.sealed(problems) }
    }

    /// The record as compact JSON with sorted keys.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// What a record's HMAC is made over begins with this, so that no other signed text passes for a record.
    private static let signingContext = Array("ledger fleet status record v1\n".utf8)

    /// The record signed by `key`: its `hmac` made over the rest, as `encoded` writes it.
    public func signed(by key: ManifestKey) throws -> ClientStatus {
        var signed = self
        signed.hmac = nil
        signed.hmac = key.code(for: Self.signingContext + Array(try signed.encoded()))
        return signed
    }

    /// Whether `key` signed the record as it reads now (a record written elsewhere,
    /// planted, or changed since does not pass).
    public func isSigned(by key: ManifestKey) -> Bool {
        guard let claimed = hmac else { return false }
        var unsigned = self
        unsigned.hmac = nil
        guard let bytes = try? unsigned.encoded() else { return false }
        return key.isCode(claimed, for: Self.signingContext + Array(bytes))
    }

    /// A record read from a location: nil when it is too large, not JSON of this shape, not
    /// ours, or of a later version. Never traps, whatever the bytes.
    public static func decoded(_ data: Data) -> ClientStatus? {
        guard data.count <= maximumBytes else { return nil }
        guard let status = try? JSONDecoder().decode(ClientStatus.self, from: data),
            status.format == formatName, status.version <= currentVersion
        else { return nil }
        return status
    }
}
