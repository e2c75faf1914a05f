import Foundation

/// What one fleet step did for one client: the line a person reads, and whether they must look.
public struct ClientResult: Codable, Equatable, Sendable {
    /// The client's name.
    public var client: String
    /// The client's folder or prefix in the location.
    public var slug: String
    /// The company file's path.
    public var file: String
    /// How the step ended for this client.
    public var outcome: ClientStatus.StepOutcome
    /// One line: "clean", "3 findings (2 errors)", "missing: no such file", "last proven restorable: …".
    public var summary: String
    /// When a drill last passed, for `drill` and `check-backups --drill`.
    public var lastProvenAt: String?
    /// Why the client's status record could not be written, when it could not.
    public var statusProblem: String?
    /// What needs a person although the step did its work, when something
    /// beside it failed: keep rules that could not finish after the snapshot was written.
    public var problem: String?

    /// A result for `client`; no drill time and no record problem yet.
    public init(client: FleetClient, outcome: ClientStatus.StepOutcome, summary: String) {
        self.client = client.name
        slug = client.slug
        file = client.file
        self.outcome = outcome
        self.summary = summary
    }

    /// Whether a person must look at this client: anything but clean, a
    /// problem beside the step, or a record that could not be kept.
    public var needsAttention: Bool { outcome != .clean || problem != nil || statusProblem != nil }
}
