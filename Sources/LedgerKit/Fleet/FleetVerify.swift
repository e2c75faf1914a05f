import Foundation

/// `fleet verify`: Verify Data of one client's company file, folded into its status record.
public enum FleetVerify {
    /// Findings kept in a record for the report's details.
    static let findingsKept = 50

    /// How far past this machine's clock a recorded time may lie (another
    /// machine's clock may run a little ahead): beyond it, the time is not believed.
    static let clockTolerance: TimeInterval = 300

    /// Whether a quick verify done at `verified` (a backup's) takes the place
    /// of the record's `recorded` one at `now`: unless that one is later, or a
    /// full verify that found what a quick one cannot see. A recorded time
    /// that cannot be read, or lies in the future, is not believed.
    static func replaces(_ recorded: ClientStatus.VerifyStep?, quickAt verified: Date, now: Date) -> Bool {
        guard let recorded else { return true }
        guard let at = Timestamp.parse(recorded.at), at <= now + clockTolerance else { return true }
        if at > verified { return false }
        switch recorded.outcome {
        case .clean, .failed, .unknown: return true
        case .findings, .damaged: return recorded.quick == true
        }
    }

    /// Verifies `client`'s file (read-only); with `root`, records the result in its status record there.
    public static func run(
        _ client: FleetClient, root: String?, quick: Bool = false, now: @Sendable () -> Date = Date.init
    )
        -> ClientResult
    {
        if let root, let refused = FleetStorage.refused(client, root: root) { return refused }
        let step = verify(client.file, quick: quick, at: now())
        var result = ClientResult(client: client, outcome: step.outcome, summary: summary(of: step))
        if let root {
            let size = StatusUpdates.size(of: client.file, now: now())
            result.statusProblem = StatusUpdates.update(client, root: root, now: now()) { status in
                status.verify = step
                if let size { status.size = size }
                StatusUpdates.night(&status, outcome: step.outcome, now: now(), fileBytes: size?.bytes)
            }
        }
        return result
    }

    /// The record's verify step for the file at `file`: never throws; a file that cannot be verified is `failed`.
    public static func verify(_ file: String, quick: Bool, at moment: Date) -> ClientStatus.VerifyStep {
        let at = Timestamp.string(from: moment)
        do {
            return step(at: at, findings: try Verifier.verify(path: file, quick: quick).findings, quick: quick)
        } catch {
            var step = ClientStatus.VerifyStep(at: at, outcome: .failed)
            step.problem = FleetError.describe(error)
            if quick { step.quick = true }
            return step
        }
    }

    /// The record's verify step of a verify that ran at `at` and found `findings`
    /// (a fleet verify's, or the quick verify of a fleet backup's copy).
    static func step(at: String, findings: [Finding], quick: Bool) -> ClientStatus.VerifyStep {
        let damaged = findings.contains { $0.code == .sqliteCorruption }
        var step = ClientStatus.VerifyStep(at: at, outcome: findings.isEmpty ? .clean : damaged ? .damaged : .findings)
        for finding in findings {
            step.bySeverity[finding.severity.rawValue, default: 0] += 1
            step.byCode[finding.code.rawValue, default: 0] += 1
        }
        step.findings = findings.prefix(findingsKept).map {
            ClientStatus.FindingLine(code: $0.code.rawValue, severity: $0.severity.rawValue, message: $0.message)
        }
        if quick { step.quick = true }
        return step
    }

    /// "clean", "damaged: 2 errors", "findings: 1 error, 3 warnings", or the problem.
    static func summary(of step: ClientStatus.VerifyStep) -> String {
        let errors = step.bySeverity["error"] ?? 0
        let warnings = step.bySeverity["warning"] ?? 0
        let counted = [
            errors > 0 ? "\(errors) error" + (errors == 1 ? "" : "s") : nil,
            warnings > 0 ? "\(warnings) warning" + (warnings == 1 ? "" : "s") : nil,
        ].compactMap { $0 }
        switch step.outcome {
        case .clean: return "clean"
        case .damaged, .findings: return "\(step.outcome.rawValue): " + counted.joined(separator: ", ")
        case .failed, .unknown: return "could not verify: " + (step.problem ?? "unknown")
        }
    }
}
