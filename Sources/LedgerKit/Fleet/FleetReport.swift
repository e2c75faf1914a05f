import Foundation

/// The fleet report: every client's status record judged by one policy and ranked by
/// risk, worst first (docs/fleet-report.md). Built one record at a time, so memory
/// grows with the rows kept, never with the records' bytes.
public struct FleetReport: Sendable {
    /// Always `ledger-fleet-report`.
    public static let formatName = "ledger-fleet-report"
    /// Nights shown in each row's strip.
    public static let nightsShown = 30

    /// When the report was made: ages and overdue backups are measured from it.
    public let generatedAt: Date
    /// The thresholds the rows are judged by.
    public let policy: ReportPolicy
    /// This machine's manifest key: where it signed any record, a record it did not
    /// sign is not believed (`rank`); nil takes every record at its word.
    public let key: ManifestKey?
    /// The clients, most at risk first.
    public private(set) var rows: [ReportRow] = []
    private var sorted = true

    /// An empty report, made at `generatedAt`, judged by `policy`, with records
    /// signed by `key` (this machine's) believed over others.
    public init(generatedAt: Date, policy: ReportPolicy = ReportPolicy(), signedBy key: ManifestKey? = nil) {
        self.generatedAt = generatedAt
        self.policy = policy
        self.key = key
    }

    /// Adds the record found under `slug` in the location: `data` is its bytes, or nil
    /// when the client's folder has no readable record; `refused` says why it was not read
    /// at all, when it was not (a link); `gone`, the snapshots it names as good
    /// that the location no longer holds.
    /// `writtenHere`, when this machine last wrote the record (`WrittenRecords`): an older one
    /// was put back.
    public mutating func add(
        slug: String, data: Data?, refused: String? = nil, gone: [String] = [], writtenHere: String? = nil
    ) {
        if let refused {
            add(unreadable: slug, why: refused)
        } else if let data, let status = ClientStatus.decoded(data) {
            add(status, slug: slug, gone: gone, writtenHere: writtenHere)
        } else {
            add(
                unreadable: slug,
                why: data == nil ? "no status record could be read" : "the status record is not one ledger wrote")
        }
    }

    /// Adds one client's record. `slug` is the folder the record was found in; the record's own
    /// slug is not trusted to name it.
    public mutating func add(_ status: ClientStatus, slug: String, gone: [String] = [], writtenHere: String? = nil) {
        var row = judge(status, slug: slug, gone: gone)
        row.signedHere = key.map(status.isSigned)
        if let writtenHere, let written = Timestamp.parse(writtenHere),
            Timestamp.parse(status.updatedAt).map({ $0 < written }) ?? true
        {
            Self.doubt(
                &row,
                "the record is older than the one this computer last wrote there (\(writtenHere)): it was put back by "
                    + "someone who can write to the location; its word is not taken until the next fleet step")
        }
        rows.append(row)
        sorted = false
    }

    /// Puts `detail` first among `row`'s concerns, as `unreadableRecord`: the record's word is not taken.
    private static func doubt(_ row: inout ReportRow, _ detail: String) {
        guard !row.concerns.contains(where: { $0.detail == detail }) else { return }
        row.concerns.insert(ReportRow.Noted(concern: .unreadableRecord, detail: detail), at: 0)
        row.level = Concern.unreadableRecord.level
        row.risk = max(row.risk, Concern.unreadableRecord.weight)
    }

    /// What a row whose record this machine did not sign says, where it signed others.
    static let notSignedHere =
        "the record was not written with this computer's ledger key (by another computer of the fleet, "
        + "or put there by someone who can write to the location): its word is not taken; run the fleet "
        + "steps for this client here, or give the fleet's computers one key"

    /// Where this machine signed any record of the location, every record it did not
    /// sign is not believed: anyone who can write there could have written it (a
    /// damaged client's record replaced with a clean one). Rows are made again as
    /// unreadable, keeping their client's name.
    private mutating func doubtUnsigned() {
        guard rows.contains(where: { $0.signedHere == true }) else { return }
        for index in rows.indices where rows[index].signedHere == false {
            Self.doubt(&rows[index], Self.notSignedHere)
        }
    }

    /// Adds a row for a client whose record could not be used.
    public mutating func add(unreadable slug: String, why: String) {
        let strip = [ReportRow.NightMark](repeating: .missed, count: Self.nightsShown)
        rows.append(
            ReportRow(
                rank: 0, client: slug, slug: slug, level: .attention, risk: Concern.unreadableRecord.weight,
                concerns: [.init(concern: .unreadableRecord, detail: why)], errors: 0, warnings: 0, findings: [],
                nights: strip, sizes: []))
        sorted = false
    }

    /// Sorts the rows by risk and numbers them; call once all records are added.
    public mutating func rank() {
        guard !sorted else { return }
        doubtUnsigned()
        rows.sort { a, b in
            if a.risk != b.risk { return a.risk > b.risk }
            let aWeight = a.concerns.reduce(0) { $0 + $1.concern.weight }
            let bWeight = b.concerns.reduce(0) { $0 + $1.concern.weight }
            if aWeight != bWeight { return aWeight > bWeight }
            if a.client != b.client { return a.client < b.client }
            return a.slug < b.slug
        }
        for index in rows.indices { rows[index].rank = index + 1 }
        sorted = true
    }

    /// How many clients are at each level.
    public var counts: [ReportLevel: Int] {
        rows.reduce(into: [:]) { $0[$1.level, default: 0] += 1 }
    }

    // MARK: - Judging one record

    private func judge(_ status: ClientStatus, slug: String, gone: [String]) -> ReportRow {
        var concerns: [ReportRow.Noted] = []
        // Every text a row keeps from a record is cut to a bound: a page's size then grows with
        // the clients, never with what a hostile record holds.
        var notes = TextBudget(bytes: Self.rowTextBytes)
        func note(_ concern: Concern, _ detail: String) {
            concerns.append(.init(concern: concern, detail: notes.cut(detail)))
        }
        let late = policy.every + policy.grace
        // A record names its own folder, and its snapshots lie in it: one that does not was copied
        // from another client's folder or planted, and its good news is not this client's.
        if status.slug != slug {
            note(
                .unreadableRecord,
                "the record is another client's (it names the folder \(status.slug)): copied or planted")
        } else if let stray = [
            status.backup?.snapshot, status.backup?.lastGoodSnapshot, status.drill?.snapshot,
            status.drill?.lastProvenSnapshot,
        ]
        .compactMap({ $0 }).first(where: { !Self.lies($0, inFolder: slug) }) {
            note(.unreadableRecord, "the record names a snapshot outside the client's folder (\(stray))")
        }

        let verify = status.verify
        var verifyOutcome = verify?.outcome
        let errors = Self.count(verify?.bySeverity["error"])
        let warnings = Self.count(verify?.bySeverity["warning"])
        // A severity this version does not know counts as an error: never as milder than it may be.
        let unknown = Self.count(
            (verify?.bySeverity ?? [:]).filter { $0.key != "error" && $0.key != "warning" }.values
                .reduce(0) { $0 + Self.count($1) })
        let listsFindings =
            errors + warnings + unknown > 0 || !(verify?.findings.isEmpty ?? true)
            || (verify?.byCode.values.contains { $0 > 0 } ?? false)
        switch verify?.outcome {
        case nil: note(.notVerified, "never verified")
        case .damaged?: note(.damaged, verify?.problem ?? "the file is damaged: run ledger rebuild")
        case .failed?, .unknown?:
            note(.notVerified, "verify could not run: " + (verify?.problem ?? "no reason recorded"))
        case .clean? where !listsFindings: break
        case .clean?, .findings?:
            if verifyOutcome == .clean {
                // A record that says clean and lists findings is not believed either way.
                note(.notVerified, "the last verify says clean, yet lists findings")
                verifyOutcome = .unknown
            }
            if errors > 0 { note(.errors, "\(errors) error\(errors == 1 ? "" : "s") found") }
            if unknown > 0 {
                note(.errors, "\(unknown) finding\(unknown == 1 ? "" : "s") of a severity this version does not know")
            }
            if warnings > 0 { note(.warnings, "\(warnings) warning\(warnings == 1 ? "" : "s") found") }
            if errors == 0 && warnings == 0 && unknown == 0 { note(.errors, "findings of unknown severity") }
        }
        if let verify, verify.outcome != .failed, verify.outcome != .unknown {
            switch when(verify.at) {
            case .future:
                // Else it would never be late: a record claiming a verify to come.
                note(.notVerified, "the last verify's time is in the future (\(verify.at))")
            case .unreadable: note(.notVerified, "the last verify's time is unreadable")
            case .age(let age): if age > late { note(.notVerified, "last verified \(Self.span(age)) ago") }
            }
        }

        let backup = status.backup
        // Its word that a good backup exists, against the location's: removed since, it is no backup.
        for snapshot in gone {
            note(
                .backupOverdue,
                "the last good backup is gone from the location, or is no longer as it was written (\(snapshot))")
        }
        var goodAge: TimeInterval?
        switch backup?.lastGoodAt.map(when) {
        case nil: note(.backupOverdue, backup?.problem.map { "no good backup: " + $0 } ?? "no good backup")
        case .future?:
            note(.backupOverdue, "the last good backup's time is in the future (\(backup?.lastGoodAt ?? ""))")
        case .unreadable?: note(.backupOverdue, "the last good backup's time is unreadable")
        case .age(let age)?:
            goodAge = age
            if age > late { note(.backupOverdue, "last good backup \(Self.span(age)) ago") }
        }
        if let backup, case .future = when(backup.at) {
            note(.backupOverdue, "the last backup's time is in the future (\(backup.at))")
        }
        if let backup, backup.outcome == .failed || backup.outcome == .unknown, goodAge.map({ $0 <= late }) ?? false {
            note(.backupOverdue, "the last backup failed: " + (backup.problem ?? "no reason recorded"))
        }

        // A failed check outranks any backup since: the snapshots it found wrong are still there.
        if let check = status.check, check.outcome != .clean {
            let problems = check.problems.prefix(5).map { Self.cut($0) }.joined(separator: "; ")
            note(
                .checkFailed,
                "the last check of the backups failed: " + (problems.isEmpty ? "no reason recorded" : problems))
        }

        let drill = status.drill
        if let drill, drill.outcome != .clean {
            note(.drillFailed, "the last restore drill failed: " + (drill.problem ?? "no reason recorded"))
        }
        switch drill?.lastProvenAt.map(when) {
        case nil: note(.notProven, "never proven restorable")
        case .future?:
            note(.notProven, "the last proven restore's time is in the future (\(drill?.lastProvenAt ?? ""))")
        case .unreadable?: note(.notProven, "the last proven restore's time is unreadable")
        case .age(let age)?:
            if age > policy.drillEvery + policy.grace {
                note(.notProven, "last proven restorable \(Self.span(age)) ago")
            }
        }

        var freePercent: Int?
        if let size = status.size, size.bytes > 0, size.pageSize > 0, size.freePages >= 0 {
            let free = Double(size.freePages) * Double(size.pageSize) / Double(size.bytes)
            freePercent = Int((min(free, 1) * 100).rounded())
            if size.bytes >= policy.sizeFloor, free > policy.freePageLimit {
                note(.freePages, "\(freePercent ?? 0)% of the file is free pages")
            }
        }
        if let growth = weeklyGrowth(status.history ?? []), growth > policy.growthLimit {
            // A record may claim any sizes: the figure is capped, never trapped on.
            note(.growingFast, "grew \(Int((min(growth, 1_000_000) * 100).rounded()))% in a week")
        }

        concerns.sort { $0.concern.weight > $1.concern.weight }
        let worst = concerns.first?.concern
        var findingTexts = TextBudget(bytes: Self.rowTextBytes)
        return ReportRow(
            rank: 0, client: Self.cut(status.client), slug: slug, level: worst?.level ?? .good,
            risk: worst?.weight ?? 0,
            concerns: concerns, lastVerifyAt: verify.map { Self.cut($0.at) }, verifyOutcome: verifyOutcome,
            errors: Self.count(errors + unknown),
            warnings: warnings,
            findings: (verify?.findings ?? []).prefix(50).map {
                ClientStatus.FindingLine(
                    code: findingTexts.cut($0.code, Self.codeLimit),
                    // The two severities ledger writes are kept whole, past the room too.
                    severity: ["error", "warning"].contains($0.severity)
                        ? $0.severity : findingTexts.cut($0.severity, Self.codeLimit),
                    message: findingTexts.cut($0.message))
            },
            lastGoodBackupAt: backup?.lastGoodAt.map { Self.cut($0) },
            lastGoodBackupAgeHours: goodAge.map { Int(($0 / 3_600).rounded(.down)) },
            lastGoodBackupBytes: backup?.lastGoodBytes, lastProvenAt: drill?.lastProvenAt.map { Self.cut($0) },
            drillOutcome: drill?.outcome, lastCheckAt: status.check.map { Self.cut($0.at) },
            checkOutcome: status.check?.outcome,
            fileBytes: status.size?.bytes, freePagesPercent: freePercent,
            nights: strip(status.history ?? []), sizes: sizes(status.history ?? []))
    }

    /// What a record's time tells the report.
    private enum Moment {
        /// Seconds before the report's time (0 for a time a little ahead).
        case age(TimeInterval)
        /// More than `FleetVerify.clockTolerance` ahead of the report's time: not believed.
        case future
        /// Not a time at all.
        case unreadable
    }

    /// How long before the report's time `timestamp` lies. A time a little ahead
    /// (another machine's clock) counts as now, so it never makes a step look late;
    /// one further ahead is not believed, or it would stay on time for ever.
    private func when(_ timestamp: String) -> Moment {
        guard let at = Timestamp.parse(timestamp) else { return .unreadable }
        if at > generatedAt + FleetVerify.clockTolerance { return .future }
        return .age(max(0, generatedAt.timeIntervalSince(at)))
    }

    /// The last `nightsShown` days ending on the report's day, oldest first.
    private func strip(_ history: [ClientStatus.Night]) -> [ReportRow.NightMark] {
        let today = CivilDate(generatedAt)
        var byDay: [Int: ClientStatus.StepOutcome] = [:]
        for night in history {
            guard let day = CivilDate(night.day) else { continue }
            byDay[day.dayNumber] = night.outcome
        }
        return (0..<Self.nightsShown).reversed().map { back in
            switch byDay[today.dayNumber - back] {
            case nil: return .missed
            case .clean?: return .good
            case .findings?: return .warning
            case .damaged?, .failed?, .unknown?: return .failed
            }
        }
    }

    private func sizes(_ history: [ClientStatus.Night]) -> [ReportRow.SizePoint] {
        history.suffix(ClientStatus.historyLimit).compactMap { night in
            guard CivilDate(night.day) != nil, night.fileBytes != nil || night.snapshotBytes != nil else { return nil }
            return .init(day: night.day, fileBytes: night.fileBytes, snapshotBytes: night.snapshotBytes)
        }
    }

    /// The file's growth from the newest size a week or more before the newest night to the newest
    /// night, as a fraction; nil without two such sizes or under the size floor.
    private func weeklyGrowth(_ history: [ClientStatus.Night]) -> Double? {
        let known = history.compactMap { night -> (day: Int, bytes: Int64)? in
            guard let day = CivilDate(night.day), let bytes = night.fileBytes, bytes > 0 else { return nil }
            return (day.dayNumber, bytes)
        }
        guard let newest = known.max(by: { $0.day < $1.day }), newest.bytes >= policy.sizeFloor,
            let before = known.filter({ $0.day <= newest.day - 7 }).max(by: { $0.day < $1.day })
        else { return nil }
        return Double(newest.bytes - before.bytes) / Double(before.bytes)
    }

    /// The most of a record's text (a name, a problem, a finding's message) a row keeps, in Unicode scalars.
    static let textLimit = 500
    /// The most of a finding's code or severity a row keeps.
    static let codeLimit = 64
    /// What follows a text that was cut.
    static let cutMark = "… (cut)"
    /// The most UTF-8 bytes of a record's texts a row keeps for its concerns'
    /// details, and as much for its findings: so the rows of thousands of
    /// hostile records still fit in memory.
    static let rowTextBytes = 4_096

    /// What is left of a row's room for a record's texts (`rowTextBytes`):
    /// each text is cut to its own limit and to what is left, and once the
    /// room is used up, texts keep only the cut mark.
    struct TextBudget {
        var bytes: Int

        mutating func cut(_ text: String, _ limit: Int = textLimit) -> String {
            // A scalar takes at most 4 bytes.
            let kept = FleetReport.cut(text, min(limit, max(bytes / 4, 0)))
            bytes -= kept.utf8.count
            return kept
        }
    }

    /// `text`, or its first `limit` Unicode scalars marked as cut. Counted in scalars, not
    /// characters: one character may join any number of scalars.
    static func cut(_ text: String, _ limit: Int = textLimit) -> String {
        let scalars = text.unicodeScalars
        guard let end = scalars.index(scalars.startIndex, offsetBy: limit, limitedBy: scalars.endIndex),
            end != scalars.endIndex
        else { return text }
        return String(scalars[..<end]) + cutMark
    }

    /// Whether `snapshot` (a path or `s3://…` name a record gives) lies
    /// directly in the client folder or prefix `slug`.
    static func lies(_ snapshot: String, inFolder slug: String) -> Bool {
        let parts = snapshot.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts[parts.count - 2] == slug && parts.last?.isEmpty == false
    }

    /// A count a record gives, as a count: none below zero, and none so large
    /// that adding two overflows (a record is the location's word).
    static func count(_ recorded: Int?) -> Int {
        min(max(recorded ?? 0, 0), Int(Int32.max))
    }

    /// "3 days", "5 hours", "40 minutes".
    static func span(_ seconds: TimeInterval) -> String {
        let minutes = Int(seconds / 60)
        if minutes < 120 { return "\(minutes) minute\(minutes == 1 ? "" : "s")" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) hours" }
        return "\(hours / 24) days"
    }
}
