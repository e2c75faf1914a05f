import ArgumentParser
import Foundation
import LedgerKit

/// `ledger rebuild`: repairs what verify finds and salvages a damaged file.
struct RebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Repair what verify finds, salvage a damaged file, and never lose a cent (Rebuild Data).",
        discussion: """
            First writes a snapshot of FILE (kind pre-rebuild) to --backup-dir, by default \
            a folder 'backups' beside FILE. Then works on a copy: repairs every repairable \
            finding (money only ever moves into new lines on a 'Rebuild Suspense' account, \
            each naming the finding), salvages every readable row if SQLite cannot read the \
            file whole, rebuilds the indexes, refreshes statistics, compacts, verifies the \
            copy, and only then replaces FILE in one step. Every changed row is recorded in \
            the file; 'ledger log FILE' shows them. FILE must not be open in another program. \
            Exit status: 0 the file is clean now and nothing was lost; 1 repaired, but findings \
            that need a person remain (listed), or a salvage could not bring back every row as \
            it was (the last line says how many per table; the snapshot keeps the original); 2 could not rebuild (FILE untouched, reason given); 64 bad usage. \
            With --dry-run: 0 nothing to change, 1 changes planned. \
            After damage, rebuild keeps everything that can be kept: rows the damage took come \
            back from the newest snapshot of FILE that verified clean (in --backup-dir, the backups \
            folder beside FILE, and each --from-backup place) wherever their transaction has not changed since; transactions \
            whose lines are gone get lines rebuilt from their invoice, bill, payments or bank line; \
            balances that can no longer be explained are kept by one 'Lost in damage' journal; and \
            the last line says exactly what did not come back, per table.
            """)

    @Argument(help: "The company file to rebuild.")
    var file: String

    @Flag(help: "Show what rebuild would change, and change nothing.")
    var dryRun = false

    @Option(
        help:
            "Where the pre-rebuild snapshot goes: a folder or s3://BUCKET/PREFIX (default: 'backups' beside the file).")
    var backupDir: String?

    @Option(
        name: .customLong("from-backup"),
        help: ArgumentHelp(
            "Another place to look for the last clean snapshot after damage: a folder or s3://BUCKET/PREFIX; repeat for several.",
            valueName: "location"))
    var fromBackups: [String] = []

    @OptionGroup var identities: IdentityOptions

    @Flag(
        help:
            "Bring rows back from clean snapshots this computer did not sign, wherever they are (by default only those beside the file, in 'backups', or signed here)."
    )
    var trustUnsigned = false

    @Flag(help: "Print one JSON object on stdout instead of text.")
    var json = false

    @OptionGroup var wait: WaitOption

    @Option(help: "Show at most this many changes of each kind.")
    var limit = 5

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more.") }
    }

    func run() throws {
        var report: RebuildReport?
        try reportingFailures {
            let meter = PhaseMeter(enabled: Output.stderrIsTerminal && !json)
            let options = RebuildOptions(
                backupFolder: backupDir, dryRun: dryRun, wait: wait.seconds,
                fromBackups: fromBackups, keys: try identities.resolve(),
                manifestKey: ManifestKey.forThisMachine(), trustUnsigned: trustUnsigned)
            report = try Rebuilder.rebuild(path: file, options: options) {
                meter.show($0.phase)
            }
            meter.finish()
        }
        guard let report else { return }
        if json {
            try Output.json(report)
        } else {
            printText(report)
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    private func printText(_ report: RebuildReport) {
        let paint = Paint(enabled: Output.stdoutIsTerminal)
        if report.dryRun {
            Output.line(
                report.changedAnything
                    ? "Rebuild would make these changes (nothing was changed):"
                    : "No row needs repair; rebuild would still rebuild every index and compact the file.")
        }
        if let snapshot = report.snapshot { Output.line("Snapshot of the file as it was: \(snapshot)") }
        if let salvage = report.salvage {
            Output.line(
                paint.bold("Salvaged")
                    + " — SQLite could not read the file whole; every readable row was copied into a fresh file:")
            if let cut = report.damage?.cutShortBy {
                Output.line("  The file is cut short: \(Output.count(cut, "page")) at its end are missing.")
            }
            for table in salvage {
                var line = "  \(table.table): \(Output.count(table.recovered, "row")) read"
                if table.fromIndexes > 0 { line += ", \(Output.grouped(table.fromIndexes)) rebuilt from its indexes" }
                if !table.metDamage && table.lost == 0 {
                    line += ", none lost"
                } else if table.lostIsExact {
                    line += ", \(Output.grouped(table.lost)) missing"
                } else {
                    line +=
                        table.lost > 0
                        ? ", \(Output.grouped(table.lost)) missing and maybe more"
                        : ", how many were missing is unknown"
                }
                if let note = table.note { line += " (\(note))" }
                Output.line(line)
            }
            if let damage = report.damage { DamageText.print(damage, paint: paint, limit: limit) }
        }
        for object in report.schemaRepairs { Output.line("Made again: \(object)") }
        for group in report.repairs {
            Output.line(
                paint.bold(group.code.rawValue) + " — \(group.code.title): \(Output.count(group.count, "row")) "
                    + (report.dryRun ? "to change" : "changed"))
            for action in group.examples.prefix(limit) { Output.line("  " + RepairText.describe(action)) }
            if group.count > min(limit, group.examples.count) {
                Output.line(
                    "  … and \(group.count - min(limit, group.examples.count)) more"
                        + (report.dryRun ? "" : " ('ledger log \(report.file)' lists every one)"))
            }
        }
        guard !report.dryRun else { return }
        if !report.remaining.isEmpty {
            Output.line("")
            Output.line("Left for a person (rebuild does not change these):")
            Output.lines(
                report.remaining, limit: limit * 4, where: " ('ledger verify \(report.file)' lists every one)"
            ) { finding in
                "\(finding.severity == .error ? paint.red("error") : paint.yellow("warning")) \(finding.code.rawValue): \(finding.message)"
            }
        }
        if let kept = report.keptLog {
            Output.line(
                "The -wal beside the file may hold committed work that is not in the rebuilt file (it is another file's log, SQLite could not read the file with it, or a frame of it was damaged or cut short); it is kept as \(kept) for a person to look at."
            )
        }
        if let suspense = report.suspense {
            // What a person should review: money only ever waits there.
            Output.line("")
            Output.line(
                paint.bold("To review")
                    + " — Rebuild Suspense holds \(Money(cents: suspense.balance)) from \(Output.count(suspense.transactionCount, "transaction"));"
                    + " move each amount to the account it belongs to:")
            for held in suspense.largest.prefix(limit * 2) {
                Output.line("  \(Money(cents: held.amount)) in \(held.described)")
            }
            if suspense.transactionCount > min(limit * 2, suspense.largest.count) {
                Output.line(
                    "  … and \(suspense.transactionCount - min(limit * 2, suspense.largest.count)) more ('ledger report trial-balance \(report.file)' shows the account)"
                )
            }
        }
        let seconds = String(format: "%.1f", Double(report.elapsedMS) / 1000)
        let what =
            report.changedAnything
            ? "rebuilt: \(Output.count(report.changedRows, "row")) changed"
            : "rebuilt: no row needed repair; every index was rebuilt and the file compacted"
        var state =
            report.remaining.isEmpty
            ? "the file is clean"
            : "\(Output.count(report.remaining.count, "finding")) " + (report.remaining.count == 1 ? "needs" : "need")
                + " a person"
        if !report.rowsCameThrough, let salvage = report.salvage {
            // Loss is never silent: the last line says what did not come back, per table.
            state +=
                (DamageText.onlyTakenOnTrust(report, salvage: salvage)
                    ? "; every row came back, and rows need a person: " : "; NOT EVERY ROW CAME BACK: ")
                + DamageText.summary(report, salvage: salvage)
                + (report.snapshot.map { " — the damaged original is kept in \($0)" } ?? "")
            if let damage = report.damage, damage.snapshotWouldBringBack > 0, let snapshot = damage.snapshot {
                state +=
                    ". Restoring \(snapshot) (taken \(damage.snapshotTakenAt ?? "?")) would bring back \(Output.count(damage.snapshotWouldBringBack, "more row"))"
                    + " but lose all work since then: ledger restore \(snapshot) --to \(report.file)"
            }
        } else if report.salvage != nil {
            state +=
                "; every row came back"
                + (report.damage?.cutShortBy.map {
                    " (the file was cut short by \(Output.count($0, "page")), which held none of its rows)"
                } ?? "")
        }
        if let kept = report.keptLog {
            // The rows of the file came through; a transaction only the -wal held may not have.
            state += "; work its -wal committed may be missing (the log is kept as \(kept))"
        }
        Output.line("\(report.file) \(what) in \(seconds) s — \(state)")
    }
}
