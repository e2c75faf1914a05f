import Foundation
import LedgerKit

/// What a fleet run prints: a line a client, worst first, then the tally; or all of it as JSON.
struct FleetSummary: Encodable {
    let command: String
    let shard: String
    let results: [ClientResult]
    /// Clients a resumed run left alone: the stopped run had done them.
    let resumedPast: Int
    /// Of those, the ones whose outcome was not clean.
    let resumedAttention: [Earlier]
    let journalProblem: String?

    /// A client the stopped run did, with what it found.
    struct Earlier: Encodable {
        let slug: String
        let outcome: ClientStatus.StepOutcome
    }

    var ok: Bool { !results.contains(where: \.needsAttention) && resumedAttention.isEmpty }

    enum CodingKeys: String, CodingKey {
        case command, shard, clients, resumedPast, resumedAttention, journalProblem, ok
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(shard, forKey: .shard)
        try container.encode(results, forKey: .clients)
        try container.encode(resumedPast, forKey: .resumedPast)
        try container.encode(resumedAttention, forKey: .resumedAttention)
        try container.encodeIfPresent(journalProblem, forKey: .journalProblem)
        try container.encode(ok, forKey: .ok)
    }

    func printText() {
        let paint = Paint(enabled: Output.stdoutIsTerminal)
        for result in results.sorted(by: { ($0.needsAttention ? 0 : 1, $0.slug) < ($1.needsAttention ? 0 : 1, $1.slug) }
        ) {
            let mark = result.needsAttention ? paint.red("ATTENTION") : "ok       "
            Output.line(
                "\(mark) \(result.slug)  \(result.summary)"
                    + (result.statusProblem.map { "; its status record could not be written: \($0)" } ?? ""))
        }
        for earlier in resumedAttention {
            Output.line("\(paint.red("ATTENTION")) \(earlier.slug)  \(earlier.outcome.rawValue) (in the run resumed)")
        }
        let attention = results.filter(\.needsAttention).count
        let resumed =
            resumedPast == 0
            ? ""
            : " (resumed: \(resumedPast) done before"
                + (resumedAttention.isEmpty ? "" : ", \(resumedAttention.count) of them needing attention") + ")"
        Output.line(
            "\(Output.count(results.count, "client")): \(results.count - attention) in order, \(attention) "
                + (attention == 1 ? "needs" : "need") + " attention" + resumed + ".")
        if let journalProblem { Output.message("ledger: the run's journal could not be kept: \(journalProblem)") }
    }
}
