import ArgumentParser
import Foundation
import LedgerKit

/// `ledger check-backups DIR|s3://…`: reads every snapshot and judges each company file's last good copy.
struct CheckBackupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-backups",
        abstract:
            "Read every snapshot in a backup folder completely, and say when each company file's last good copy was taken.",
        discussion: """
            Each snapshot: checksum, SHA-256 and a verify of its content. Each company file \
            (by the stem its snapshots are named with): the time of its last good copy (its newest \
            clean snapshot) and its age. A snapshot restore refuses is no good copy, however whole: \
            one whose books are not the company its manifest names (changed or planted), or one this \
            computer's ledger key did not make where it made others of the company there (restore \
            takes those only with --trust-unsigned); it is listed as REFUSED, saying why, and a \
            drill of it fails. --read-data-subset 10% reads a random tenth of the \
            snapshots (at least one) and only the headers of the rest, as restic does: a nightly \
            sample that covers everything in time, without downloading every snapshot every night. \
            Exit status 0 when every snapshot read is whole and every company's newest snapshot is \
            clean and its last good copy younger than --max-age; 1 when not (or when encrypted \
            snapshots no --identity opens leave it unknown, or the location holds no snapshot); \
            2 when the location cannot be read.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var identities: IdentityOptions

    @Option(
        name: .customLong("read-data-subset"),
        help: ArgumentHelp(
            "Read this share of the snapshots completely, chosen at random; the rest by their headers.", valueName: "N%"
        ))
    var subset: String?

    @Option(
        name: .customLong("max-age"),
        help: ArgumentHelp(
            "How old a company's last good copy may be: 90m, 48h, 7d.", valueName: "age"))
    var maxAge = MaxAge(text: "48h", seconds: 48 * 3_600)

    @OptionGroup var listing: ListingOptions

    @Flag(help: "Print the results as one JSON object: snapshots, and companies with their last good copy.")
    var json = false

    @Flag(
        help: ArgumentHelp(
            "Also restore each company file's newest snapshot into a private scratch folder, verify "
                + "it in full and compare it with its manifest (a drill): 'last proven restorable: TIME' or what failed."
        ))
    var drill = false

    /// The share `--read-data-subset` names, from 0 (exclusive) to 1.
    private var share: Double? {
        guard let subset else { return 1 }
        let number = subset.hasSuffix("%") ? subset.dropLast() : subset[...]
        guard let percent = Double(number), percent > 0, percent <= 100 else { return nil }
        return percent / 100
    }

    func validate() throws {
        guard share != nil else {
            throw ValidationError(
                "--read-data-subset '\(subset ?? "")' is not a share; write it like 10% (more than 0, at most 100).")
        }
    }

    func run() throws {
        var ok = true
        listing.apply()
        try reportingFailures {
            let keys = try identities.resolve()
            // Restore's rules for snapshots this machine did not sign hold here too.
            let manifestKey = ManifestKey.existing()
            let found = try SnapshotChecker.checkLocation(
                folder, sample: share ?? 1, with: keys, maxAge: maxAge.seconds, signedBy: manifestKey)
            let drills = drill ? try FleetLocationDrill(location: folder, keys: keys, signedBy: manifestKey) : nil
            ok = found.ok && drills?.ok != false
            if json {
                return try drills.map { try Output.json(CheckWithDrills(check: found, drills: $0)) }
                    ?? Output.json(found)
            }
            let results = found.snapshots
            if results.isEmpty {
                Output.line(
                    "\(folder) holds no snapshot: nothing there is proven. "
                        + "Check that it is the right place, or take one with 'ledger backup FILE --to \(folder)'.")
                drills?.lines().forEach(Output.line)
                return
            }
            for result in results {
                let sealed = result.encrypted && !result.read && result.ok
                let status =
                    result.refused != nil
                    ? "REFUSED " : !result.ok ? "DAMAGED " : result.read ? "ok      " : sealed ? "sealed  " : "listed  "
                Output.line(
                    status + result.path
                        + (!result.ok || result.refused != nil
                            ? ": \(result.problem ?? "")"
                            : result.read
                                ? " (verify: \(result.verify))"
                                : sealed ? " (encrypted; not read: give --identity to read it)" : " (header only)"))
            }
            for company in found.companies { standingLines(company).forEach(Output.line) }
            // Checked: read whole, or found not whole (a head that could not be read counts).
            let checked = results.filter { $0.read || !$0.ok }.count
            // Books other than its manifest names came out whole: restore refuses them all the same.
            let whole = results.filter { $0.read && ($0.ok || $0.refused == .notAsClaimed) }.count
            let refused = results.filter { $0.refused != nil }.count
            let sealed = results.filter { $0.encrypted && !$0.read && $0.ok }.count
            var summary =
                checked == results.count
                ? "\(whole) of \(checked) snapshots are whole"
                : "\(whole) of \(checked) snapshots read are whole"
            if results.count - checked - sealed > 0 {
                summary += "; \(results.count - checked - sealed) more only listed"
            }
            if sealed > 0 {
                summary +=
                    "; \(Output.count(sealed, "encrypted snapshot")) could not be read "
                    + (keys.isEmpty
                        ? "without a key: give --identity KEYFILE"
                        : "with the keys given: give the identity file that opens them (--identity)")
            }
            if refused > 0 { summary += "; restore refuses \(Output.count(refused, "snapshot")) (REFUSED above)" }
            Output.line(summary + ".")
            drills?.lines().forEach(Output.line)
        }
        if !ok { throw ExitCode(1) }
    }

    /// "acme: last good copy 2026-12-01T02:00:00Z (3 days ago), DIR/acme-….db.gz", then a line per problem.
    private func standingLines(_ company: CompanyStanding) -> [String] {
        // One file name, two companies' snapshots: each is named.
        let name =
            company.company.map {
                "\(company.stem) (\(Output.printable($0)), created \(Output.printable(company.companyCreatedAt ?? "?")))"
            } ?? company.stem
        var lines: [String] = []
        if let good = company.lastGoodCopy {
            lines.append(
                "\(name): last good copy \(company.lastGoodCopyTakenAt ?? "?")"
                    + (company.lastGoodCopyAgeSeconds.map { " (\(Age.phrase($0)))" } ?? "") + ", \(good)")
        }
        for problem in company.problems {
            switch problem {
            case .newestNotClean:
                lines.append(
                    "\(name): NOT SAFE: its newest snapshot is not a good copy (verify: \(company.newestVerify ?? "?")): \(company.newest)"
                )
            case .newestRefused:
                let why =
                    company.newestVerify == SnapshotCheck.Refusal.notAsClaimed.rawValue
                    ? "its books are not those its manifest names"
                    : "this computer's ledger key did not make it, though it made others of the company there"
                lines.append("\(name): NOT SAFE: restore refuses its newest snapshot (\(why)): \(company.newest)")
            case .newestUnknown:
                lines.append(
                    "\(name): NOT KNOWN: its newest snapshot is encrypted; give --identity to tell whether it is clean: \(company.newest)"
                )
            case .noGoodCopy:
                lines.append(
                    "\(name): NOT SAFE: none of its \(Output.count(company.snapshots, "snapshot")) is a good copy"
                )
            case .goodCopyUnknown:
                lines.append(
                    "\(name): NOT KNOWN: no snapshot is known to be clean; \(Output.count(company.unknown.count, "encrypted snapshot")) may be: give --identity"
                )
            case .goodCopyTooOld:
                lines.append("\(name): NOT SAFE: its last good copy is older than --max-age \(maxAge.text)")
            }
        }
        return lines
    }
}
