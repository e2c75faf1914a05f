import Foundation

/// Reading and writing clients' status records (`ClientStatus`) in a backup
/// location, and folding a step into one: its own field, the file's size, and
/// tonight's entry of the history.
public enum StatusUpdates {
    /// The record of `client` under `root`: the one there, or a new one when there is none or it cannot be believed.
    /// - Throws: when the location cannot be read.
    public static func load(_ client: FleetClient, root: String, now: Date) throws -> ClientStatus {
        let location = FleetStorage.clientLocation(root, slug: client.slug)
        let stored = try FleetStorage.read(ClientStatus.objectName, in: location).flatMap(ClientStatus.decoded)
        var status =
            stored ?? ClientStatus(client: client.name, slug: client.slug, updatedAt: Timestamp.string(from: now))
        status.client = client.name
        status.slug = client.slug
        return status
    }

    /// Updates the record of `client` under `root` with `change`, stamps it and writes it back;
    /// `encrypted` when the step met an encrypted snapshot there (see `save`).
    /// - Returns: why it could not be read or written, or nil when it was.
    @discardableResult
    public static func update(
        _ client: FleetClient, root: String, now: Date, encrypted: Bool = false,
        _ change: (inout ClientStatus) -> Void
    ) -> String? {
        // Never through a link: the record would be read and written outside the location.
        if let refusal = FleetStorage.refusal(ofClient: client.slug, in: root) { return refusal }
        do {
            var status = try load(client, root: root, now: now)
            change(&status)
            if let lost = client.lost {
                // The file cannot be verified, whatever this step did: the report says why.
                var verify = ClientStatus.VerifyStep(at: Timestamp.string(from: now), outcome: .failed)
                verify.problem = lost
                status.verify = verify
                night(&status, outcome: .failed, now: now)
            }
            status.file = client.file
            let location = FleetStorage.clientLocation(root, slug: client.slug)
            // A fleet once backed up encrypted (`--encrypt-to` leaves no trace in a new client's
            // folder) seals the record of every client that joins it later.
            if encrypted || isSealed(location) || listsRecipients(root) || SealedLocations.contains(root) {
                status.seal()
            }
            try save(status, in: location, now: now)
            if encrypted { SealedLocations.remember(root) }
            if status.sealed == true { SealedLocations.remember(location) }
        } catch {
            return FleetError.describe(error)
        }
        // On the roster once its record is written: should its folder go, the report still asks for it.
        return FleetRoster.enrol(client, root: root, now: now)
    }

    /// Updates the record already in `location` (a fleet client's folder or prefix) with `change`;
    /// a location without one is left as it is.
    /// - Returns: whether there was a record, and why it could not be read or written.
    public static func updateExisting(
        in location: String, now: Date, _ change: (inout ClientStatus) -> Void
    ) -> (found: Bool, problem: String?) {
        do {
            guard
                var status = try FleetStorage.read(ClientStatus.objectName, in: location).flatMap(ClientStatus.decoded)
            else { return (false, nil) }
            change(&status)
            if isSealed(location) { status.seal() }
            try save(status, in: location, now: now)
            if status.sealed == true { SealedLocations.remember(location) }
            return (true, nil)
        } catch {
            return (true, FleetError.describe(error))
        }
    }

    /// Whether a record in `location` (a client's folder or prefix) must keep
    /// no words of the books: the owner set recipients on this machine for it
    /// or a location holding it, such as the fleet's (the rule that encrypts
    /// its snapshots: `RecipientsConfig.recipients(for:)`), its own
    /// `.ledger-recipients` asks for encryption, or it holds an encrypted
    /// snapshot (a backup given `--encrypt-to` leaves no other trace). A record
    /// once sealed stays so (`ClientStatus.seal`), and this machine remembers
    /// it (`SealedLocations`: the location may hide its other signs); a
    /// location that cannot be asked counts as sealed.
    static func isSealed(_ location: String) -> Bool {
        if SealedLocations.contains(location) { return true }
        guard let config = try? RecipientsConfig.load() else { return true }
        if !config.recipients(for: location).isEmpty { return true }
        do {
            let store = try SnapshotStore.open(location)
            return try store.setting(LocationRecipients.fileName) != nil
                || store.listedNames().contains(where: SnapshotName.isEncrypted)
        } catch {
            return true
        }
    }

    /// Whether the fleet's `root` holds a `.ledger-recipients`, which asks for
    /// encryption in every client's folder under it; a root that cannot be
    /// asked counts as asking.
    static func listsRecipients(_ root: String) -> Bool {
        do {
            return try SnapshotStore.open(root).setting(LocationRecipients.fileName) != nil
        } catch {
            return true
        }
    }

    private static func save(_ status: ClientStatus, in location: String, now: Date) throws {
        var status = status
        if status.sealed == true { status.seal() }
        status.host = ProcessInfo.processInfo.hostName
        status.updatedAt = Timestamp.string(from: now)
        // Signed with this machine's manifest key when it has one (any backup makes it).
        if let key = ManifestKey.existing() { status = try status.signed(by: key) } else { status.hmac = nil }
        try FleetStorage.write(try status.encoded(), as: ClientStatus.objectName, in: location)
        WrittenRecords.remember(location, updatedAt: status.updatedAt)
    }

    /// Tonight's entry of `status`'s history made no better than `outcome`, with the sizes
    /// given; the oldest entries beyond `ClientStatus.historyLimit` are dropped.
    public static func night(
        _ status: inout ClientStatus, outcome: ClientStatus.StepOutcome, now: Date,
        fileBytes: Int64? = nil, snapshotBytes: Int64? = nil
    ) {
        let day = localDay(now).description
        var history = status.history ?? []
        if let last = history.last, last.day == day {
            history[history.count - 1].outcome = worse(last.outcome, outcome)
            if let fileBytes { history[history.count - 1].fileBytes = fileBytes }
            if let snapshotBytes { history[history.count - 1].snapshotBytes = snapshotBytes }
        } else {
            history.append(
                ClientStatus.Night(day: day, outcome: outcome, fileBytes: fileBytes, snapshotBytes: snapshotBytes))
        }
        status.history = Array(history.suffix(ClientStatus.historyLimit))
    }

    /// This machine's local calendar day at `now`: a night's day.
    public static func localDay(_ now: Date) -> CivilDate {
        CivilDate(now + TimeInterval(TimeZone.current.secondsFromGMT(for: now)))
    }

    /// The worse of two outcomes: clean, then findings, then damaged, then failed or unknown.
    public static func worse(
        _ one: ClientStatus.StepOutcome, _ other: ClientStatus.StepOutcome
    ) -> ClientStatus.StepOutcome {
        rank(one) >= rank(other) ? one : other
    }

    private static func rank(_ outcome: ClientStatus.StepOutcome) -> Int {
        switch outcome {
        case .clean: 0
        case .findings: 1
        case .damaged: 2
        case .failed: 3
        case .unknown: 4
        }
    }

    /// The company file's size and free pages now, from its header; nil when it cannot be read.
    public static func size(of file: String, now: Date) -> ClientStatus.FileSize? {
        guard let header = try? FileHeader.read(path: file) else { return nil }
        return ClientStatus.FileSize(
            at: Timestamp.string(from: now), bytes: header.fileSize, pageSize: header.pageSize,
            freePages: freePages(of: file))
    }

    /// The header's count of free pages (offset 36, big-endian); 0 when it cannot be read.
    private static func freePages(of file: String) -> Int {
        guard let handle = FileHandle(forReadingAtPath: file) else { return 0 }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 40), head.count == 40 else { return 0 }
        return Int(head[36..<40].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }
}
