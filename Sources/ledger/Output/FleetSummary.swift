import Foundation
import LedgerKit

/// What a fleet run prints: a line a client, worst first, then the tally; or all of it as JSON.
struct FleetSummary: Encodable {
    let command: String
    let shard: String
    let results: [ClientResult]
    /// Clients a resumed run left alone: the stopped run had done them.
    let resumedPast: Int
    let journalProblem: String?

    var ok: Bool { !results.contains(where: \.needsAttention) }

    enum CodingKeys: String, CodingKey { case command, shard, clients, resumedPast, journalProblem, ok }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(shard, forKey: .shard)
        try container.encode(results, forKey: .clients)
        try container.encode(resumedPast, forKey: .resumedPast)
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
        let attention = results.filter(\.needsAttention).count
        Output.line(
            "\(Output.count(results.count, "client")): \(results.count - attention) in order, \(attention) "
                + (attention == 1 ? "needs" : "need") + " attention"
                + (resumedPast > 0 ? " (resumed: \(resumedPast) done before)" : "") + ".")
        if let journalProblem { Output.message("ledger: the run's journal could not be kept: \(journalProblem)") }
    }
}
